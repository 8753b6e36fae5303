"""``GET /metrics``: the process' counters in Prometheus' text format.

Steps keep plain counters (an int attribute, a ``collections.Counter``), so nothing on
the request path calls into a metrics library; planes register a function that reads
them when Prometheus scrapes (``Metrics.register``). Counters are per process: with
several workers each keeps its own, and a scrape reads the worker that answers it
(``inferia_process_id`` tells which).

Access: with ``metrics.scrape_token`` set, a scraper sends it as a bearer token; without
one, only clients on the loopback interface may read the metrics.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable, Iterable, Iterator

from litestar import Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from inferia.core.errors import AuthenticationError, PermissionDeniedError

# Litestar adds "; charset=utf-8" to a text/* type: without it here, or it comes twice.
_CONTENT_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")

Collect = Callable[[], Iterable[Metric]]


class Metrics:
    """The metric families of one process, read from the registered functions."""

    def __init__(self) -> None:
        self._registry = CollectorRegistry(auto_describe=False)
        self.register(_process_id)

    def register(self, collect: Collect) -> None:
        self._registry.register(_Collector(collect))

    def render(self) -> bytes:
        return generate_latest(self._registry)


class _Collector(Collector):
    def __init__(self, collect: Collect) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        yield from self._collect()


def _process_id() -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "inferia_process_id", "The id of the process that answered this scrape.", os.getpid()
    )


def may_scrape(request: Request[object, object, State], scrape_token: str) -> bool:
    if scrape_token:
        presented = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(presented, f"Bearer {scrape_token}".encode())
    client = request.client
    try:
        return client is not None and ipaddress.ip_address(client.host).is_loopback
    except ValueError:  # not an IP address (a Unix socket peer)
        return False


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics(request: Request[object, object, State], state: State) -> Response[bytes]:
    runtime = state.runtime
    token = runtime.settings.metrics.scrape_token
    if not may_scrape(request, token):
        if token:
            raise AuthenticationError("A valid scrape token is required for /metrics.")
        raise PermissionDeniedError(
            "/metrics answers loopback clients only; set metrics.scrape_token to scrape "
            "it from elsewhere."
        )
    return Response(runtime.metrics.render(), media_type=_CONTENT_TYPE)


METRICS_ROUTES = [metrics]
