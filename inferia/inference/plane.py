"""The inference (data) plane: the OpenAI-compatible API under /v1."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from inferia.contracts import FiltrationPorts, TemplateSnapshots
from inferia.contracts.endpoints import LiveEndpointSource
from inferia.core.http_entry import AsgiHandler
from inferia.core.ssrf import GuardedResolver
from inferia.core.tiktoken_files import install_encodings
from inferia.inference.admission import policy_steps
from inferia.inference.api.endpoints import V1Endpoints
from inferia.inference.api.models import model_listing_controller
from inferia.inference.auth import Authenticator
from inferia.inference.embedder import GatewayEmbedder
from inferia.inference.flow import RequestFlow
from inferia.inference.guard_steps import GuardrailMetrics, build_guard_steps
from inferia.inference.internal_embeddings import internal_embeddings_controller
from inferia.inference.local_embeddings import LocalEmbeddings
from inferia.inference.local_reply import LocalEmbeddingsReply
from inferia.inference.metrics import inference_metrics
from inferia.inference.retrieve_context import RetrieveContext
from inferia.inference.routing.catalogue import ModelCatalogue
from inferia.inference.routing.router import Router
from inferia.inference.shaping import ShapePromptStep
from inferia.inference.tokens import TokenCounter
from inferia.inference.upstream.caller import UpstreamCaller
from inferia.runtime import Runtime


class InferencePlane:
    def __init__(
        self, runtime: Runtime, ports: FiltrationPorts, live: LiveEndpointSource | None = None
    ) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self._demo = settings.server.demo
        self.authenticator = Authenticator(ports.principals)
        self.catalogue = ModelCatalogue(settings, runtime.state, ports.models, live)
        # Every connection of the process' HTTP client passes the SSRF policy.
        runtime.http_resolver = GuardedResolver(self.catalogue.strict_host)
        runtime.on_start(self.catalogue.start)
        runtime.on_stop(self.catalogue.close)
        install_encodings(settings.data_path / "tiktoken")
        counter = TokenCounter()
        self.admission, self.usage_sink = policy_steps(runtime, ports.policies, counter)
        templates = TemplateSnapshots(ports.templates, runtime.state, settings.templates)
        runtime.on_start(templates.start)
        runtime.on_stop(templates.close)
        guard_metrics = GuardrailMetrics()
        guard_input, guard_output = build_guard_steps(runtime, ports.guardrails, guard_metrics)
        caller = UpstreamCaller(
            lambda: runtime.http, settings.inference, lambda: self.catalogue.table
        )
        # Knowledge-base ingestion and retrieval embed through the gateway's own routing.
        local = LocalEmbeddings(settings.knowledge.local_embedding_models)
        local.load()
        self.embedder = GatewayEmbedder(
            settings.inference,
            lambda: self.catalogue.table,
            caller,
            local,
            counter,
            self.usage_sink,
        )
        # The order is the flow's (inferia.inference.flow).
        self.flow = RequestFlow(
            settings,
            counter,
            authenticate=self.authenticator,
            route=Router(self.catalogue),
            admit=self.admission,
            shape_prompt=ShapePromptStep(templates),
            guard_input=guard_input,
            retrieve_context=RetrieveContext(ports.knowledge, settings.knowledge),
            call_upstream=caller,
            guard_output=guard_output,
            settle=self.usage_sink,
            local_embeddings=LocalEmbeddingsReply(local, counter),
        )
        self.endpoints = V1Endpoints(
            self.flow,
            runtime.request_ids,
            settings.server.max_body_bytes,
            settings.server.body_read_timeout_s,
        )
        runtime.metrics.register(
            inference_metrics(
                self.flow,
                self.admission,
                self.usage_sink,
                guard_metrics,
                lambda: self.catalogue.table,
            )
        )

    def routes(self) -> list[ControllerRouterHandler]:
        """The Litestar routes (GET /v1/models..., /internal/embeddings; the demo upstream
        in demo mode)."""
        routes: list[ControllerRouterHandler] = [
            model_listing_controller(self.authenticator, self.catalogue),
            internal_embeddings_controller(
                self.embedder, self.runtime.settings.security.internal_token
            ),
        ]
        if self._demo:
            from inferia.inference.demo_upstream import DemoUpstream

            routes.append(DemoUpstream)
        return routes

    def direct_routes(self) -> dict[str, AsgiHandler]:
        """The POST endpoints, served beside Litestar (inferia.core.http_entry)."""
        return self.endpoints.routes()
