"""The inference (data) plane: the OpenAI-compatible API under /v1."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from inferia.contracts import FiltrationPorts
from inferia.core.rsgi import RsgiHandler
from inferia.core.ssrf import GuardedResolver
from inferia.inference.admission import policy_steps
from inferia.inference.api.gateway import PATHS, Gateway
from inferia.inference.api.models import model_listing_controller
from inferia.inference.auth import Authenticator
from inferia.inference.guard_steps import GuardrailMetrics, build_guard_steps
from inferia.inference.metrics import inference_metrics
from inferia.inference.pipeline import Pipeline
from inferia.inference.routing.catalogue import ModelCatalogue
from inferia.inference.tokens import TokenCounter, install_encodings
from inferia.inference.upstream.caller import UpstreamCaller
from inferia.runtime import Runtime


class InferencePlane:
    def __init__(self, runtime: Runtime, ports: FiltrationPorts) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.authenticator = Authenticator(ports.principals)
        self.catalogue = ModelCatalogue(settings, runtime.state, ports.models)
        # Every connection of the process' HTTP client passes the SSRF policy.
        runtime.http_resolver = GuardedResolver(self.catalogue.strict_host)
        runtime.on_start(self.catalogue.start)
        runtime.on_stop(self.catalogue.close)
        self.caller = UpstreamCaller(
            lambda: runtime.http, settings.inference, lambda: self.catalogue.table
        )
        install_encodings(settings.data_path / "tiktoken")
        # Steps are appended here, one line each, in DESIGN.md's order.
        self.pipeline = Pipeline()
        counter = TokenCounter()
        self.admission, self.usage_sink = policy_steps(runtime, ports.policies, counter)
        self.pipeline.append(self.admission)  # admit: limits, quotas, budgets
        guard_metrics = GuardrailMetrics()
        guard_in, guard_out = build_guard_steps(runtime, ports.guardrails, guard_metrics)
        self.pipeline.append(guard_in)  # guard input: every message, tool-call arguments
        self.pipeline.append(guard_out)  # guard output: whole replies and streams
        self.pipeline.append(self.usage_sink)  # settle: usage event + inference log
        self.gateway = Gateway(
            settings,
            self.authenticator,
            self.pipeline,
            self.catalogue,
            self.caller,
            counter,
            runtime.client_addresses,
        )
        runtime.metrics.register(
            inference_metrics(
                self.gateway,
                self.admission,
                self.usage_sink,
                guard_metrics,
                lambda: self.catalogue.table,
            )
        )

    def routes(self) -> list[ControllerRouterHandler]:
        """The Litestar routes (GET /v1/models...)."""
        return [model_listing_controller(self.authenticator, self.catalogue)]

    def direct_routes(self) -> dict[str, RsgiHandler]:
        """The POST endpoints: RSGI handlers served outside Litestar (see
        inferia.core.rsgi)."""
        return {f"/v1{path}": self.gateway.handler(api) for api, path in PATHS.items()}
