"""The inference plane's counters, as GET /metrics exports them (inferia.core.metrics).

Read when scraped from what the request flow and its steps keep anyway: nothing here runs
per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from inferia.inference.admission import AdmissionStep
from inferia.inference.flow import RequestFlow
from inferia.inference.guard_steps import GuardrailMetrics
from inferia.inference.routing.table import RoutingTable
from inferia.inference.usage_sink import UsageSink


def inference_metrics(
    flow: RequestFlow,
    admission: AdmissionStep,
    usage_sink: UsageSink,
    guardrails: GuardrailMetrics,
    table: Callable[[], RoutingTable],
) -> Callable[[], Iterable[Metric]]:
    def collect() -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "inferia_requests",
            "Requests to the /v1 POST endpoints, by API and response status (499: the "
            "client went away).",
            labels=["api", "status"],
        )
        for (api, status), count in sorted(flow.requests.items()):
            requests.add_metric([api, str(status)], count)
        yield requests
        yield CounterMetricFamily(
            "inferia_admission_unchecked",
            "Requests admitted without their limits checked because the state backend "
            "was unreachable (limits.on_state_error = fail_open).",
            value=admission.admitted_without_state,
        )
        yield CounterMetricFamily(
            "inferia_admission_settle_failures",
            "Token reservations that could not be settled to the real usage.",
            value=admission.settle_failures,
        )
        yield CounterMetricFamily(
            "inferia_usage_events_dropped",
            "Usage events (usage records, inference logs) lost: the in-memory backlog "
            "for a state-backend outage was full (usage.backlog_max_events).",
            value=usage_sink.dropped,
        )
        yield CounterMetricFamily(
            "inferia_usage_events_deferred",
            "Usage events the state backend could not take at once, kept in the backlog.",
            value=usage_sink.backlog.deferred,
        )
        yield GaugeMetricFamily(
            "inferia_usage_events_backlog",
            "Usage events waiting in memory for the state backend.",
            value=len(usage_sink.backlog),
        )
        findings = CounterMetricFamily(
            "inferia_guardrail_findings",
            "Guardrail findings, by scanner, category, action and direction.",
            labels=["scanner", "category", "action", "direction"],
        )
        for labels, count in sorted(guardrails.findings.items()):
            findings.add_metric(list(labels), count)
        yield findings
        yield from _endpoint_health(table())

    return collect


def _endpoint_health(table: RoutingTable) -> Iterable[Metric]:
    labels = ["deployment", "endpoint"]
    outstanding = GaugeMetricFamily(
        "inferia_upstream_outstanding", "Requests in flight per upstream endpoint.", labels=labels
    )
    circuit_open = GaugeMetricFamily(
        "inferia_upstream_circuit_open",
        "1 while an upstream endpoint's circuit breaker keeps requests away from it.",
        labels=labels,
    )
    now = time.monotonic()
    for deployment in table.deployments():
        for endpoint in deployment.endpoints:
            health = endpoint.health
            names = [deployment.name, endpoint.id]
            outstanding.add_metric(names, health.outstanding)
            circuit_open.add_metric(names, 0 if health.available(now) else 1)
    yield outstanding
    yield circuit_open
