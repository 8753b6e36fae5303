"""The filtration (policy) plane: identity, keys, policies, audit. Owns its tables."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from inferia.contracts.knowledge import EmbedderSlot
from inferia.contracts.port_set import FiltrationPorts
from inferia.contracts.principal_cache import principal_cache_for
from inferia.contracts.resolvers import CachedPrincipalResolver
from inferia.core.crypto import SecretBox
from inferia.core.tiktoken_files import install_encodings
from inferia.filtration.access import AccessControl
from inferia.filtration.api_keys.routes import api_keys_controller
from inferia.filtration.audit import AuditTrail
from inferia.filtration.audit.routes import audit_controller
from inferia.filtration.changes import Changes
from inferia.filtration.control_callers import ControlPlaneCallers
from inferia.filtration.guardrail_policies.consumer import GuardrailEventConsumer
from inferia.filtration.guardrail_policies.internal import internal_guardrails_controller
from inferia.filtration.guardrail_policies.routes import guardrails_controller
from inferia.filtration.guardrail_policies.service import GuardrailPolicyService
from inferia.filtration.guardrail_policies.store import GuardrailPolicyStore
from inferia.filtration.identity.routes import auth_controller
from inferia.filtration.identity_services import IdentityServices
from inferia.filtration.internal import internal_controller
from inferia.filtration.invitations.routes import (
    accept_invitation_controller,
    invitations_controller,
)
from inferia.filtration.knowledge_bases.ingestion import (
    DocumentIngester,
    IngestionConsumer,
    start_knowledge,
)
from inferia.filtration.knowledge_bases.internal import internal_knowledge_controller
from inferia.filtration.knowledge_bases.retrieval import KnowledgeRetriever
from inferia.filtration.knowledge_bases.routes import knowledge_bases_controller
from inferia.filtration.knowledge_bases.service import KnowledgeBaseService
from inferia.filtration.knowledge_bases.store import KnowledgeStore
from inferia.filtration.knowledge_bases.vector_index import build_vector_index
from inferia.filtration.members.routes import members_controller
from inferia.filtration.models.internal import internal_models_controller
from inferia.filtration.models.routes import model_definitions_controller
from inferia.filtration.models.service import ModelService
from inferia.filtration.models.store import ModelStore
from inferia.filtration.policies.internal import internal_policies_controller
from inferia.filtration.policies.routes import policies_controller
from inferia.filtration.policies.service import PolicyService
from inferia.filtration.policies.store import PolicyStore
from inferia.filtration.roles.routes import roles_controller
from inferia.filtration.templates.internal import internal_templates_controller
from inferia.filtration.templates.routes import templates_controller
from inferia.filtration.templates.service import TemplateService
from inferia.filtration.templates.store import TemplateStore
from inferia.filtration.twofactor.routes import two_factor_controller
from inferia.filtration.usage.consumer import UsageConsumer
from inferia.filtration.usage.routes import usage_controller
from inferia.filtration.usage.service import UsageService
from inferia.guardrails.setup import build_engine, platform_policy
from inferia.runtime import Runtime


class FiltrationPlane:
    def __init__(self, runtime: Runtime) -> None:
        security = runtime.settings.security
        assert runtime.database is not None  # the filtration plane owns tables
        self.audit = AuditTrail()
        # Every mutating service commits, audits and announces through this one.
        self.changes = Changes(runtime.database, self.audit, runtime.state)
        self.identity = IdentityServices(runtime.settings, runtime.state, self.changes)
        self.api_keys = self.identity.api_keys
        # What `requires(...)` guards authenticate with (put in the app state by build_app).
        self.access = AccessControl(self.identity.tokens)
        # The in-process PrincipalResolver port: the key store behind the shared cache.
        self.principals = CachedPrincipalResolver(
            self.identity.api_key_store, runtime.state, principal_cache_for(runtime.state)
        )
        # The control plane's verifier: access tokens, and API keys with their owner's role.
        self.control_callers = ControlPlaneCallers(self.access, self.principals)
        self._internal_token = security.internal_token
        runtime.on_start(self.principals.start)
        runtime.on_stop(self.principals.close)
        self._init_policy(runtime)
        self._init_guardrails(runtime)
        self._init_knowledge(runtime)

    def _init_policy(self, runtime: Runtime) -> None:
        """Limit policies (the in-process policy port) and the usage stream's consumer."""
        settings = runtime.settings
        assert runtime.database is not None  # the filtration plane owns tables
        self.policies = PolicyStore(settings.pricing, [m.name for m in settings.models])
        self.policy_service = PolicyService(self.policies, self.changes)
        # Embedded mode: SIGTERM writes what is still queued in memory (bounded).
        self.usage_consumer = UsageConsumer(
            runtime.state,
            runtime.database,
            settings.usage,
            drain_s=settings.server.drain_timeout_s,
        )
        runtime.on_start(self.usage_consumer.start)
        runtime.on_stop(self.usage_consumer.close)
        key = settings.security.encryption_key
        box = SecretBox(key, settings.security.previous_encryption_keys) if key else None
        self.usage = UsageService(box)
        # Model definitions (/management/models) and the in-process model-definition port.
        self.models = ModelStore(box, allow_private=settings.inference.allow_private_api_upstreams)
        self.model_service = ModelService(self.models, self.changes)
        # Prompt templates (/management/templates) and the in-process template port.
        self.templates = TemplateStore()
        self.template_service = TemplateService(self.templates, self.changes, settings.templates)

    def _init_guardrails(self, runtime: Runtime) -> None:
        """Guardrail policies (the in-process snapshot port) and the findings consumer."""
        assert runtime.database is not None
        settings = runtime.settings.guardrails
        engine = build_engine(settings)
        self.guardrails = GuardrailPolicyStore(engine)
        self.guardrail_service = GuardrailPolicyService(
            self.guardrails, self.changes, platform_policy(settings, engine)
        )
        self.guardrail_events = GuardrailEventConsumer(
            runtime.state, runtime.database, drain_s=runtime.settings.server.drain_timeout_s
        )
        runtime.on_start(self.guardrail_events.start)
        runtime.on_stop(self.guardrail_events.close)

    def _init_knowledge(self, runtime: Runtime) -> None:
        """Knowledge bases: the vector index, the ingestion consumer, retrieval. Embedding
        goes through ``knowledge_embedder``, bound by the app factory."""
        assert runtime.database is not None
        settings = runtime.settings.knowledge
        # Chunking counts tokens with tiktoken, whose files ship with Inferia.
        install_encodings(runtime.settings.data_path / "tiktoken")
        self.knowledge_embedder = EmbedderSlot()
        store = KnowledgeStore(build_vector_index(runtime.database))
        self.knowledge_retriever = KnowledgeRetriever(store, self.knowledge_embedder, settings)
        self.knowledge = KnowledgeBaseService(
            store, self.changes, runtime.state, self.knowledge_retriever, settings
        )
        ingester = DocumentIngester(store, runtime.database, self.knowledge_embedder, settings)
        self.ingestion = IngestionConsumer(runtime.state, ingester, store, settings)
        self._max_upload_bytes = settings.max_upload_bytes
        runtime.on_start(lambda: start_knowledge(store, self.ingestion, runtime.state))
        runtime.on_stop(self.ingestion.close)

    def ports(self) -> FiltrationPorts:
        """The in-process implementations of the ports the inference plane uses."""
        return FiltrationPorts(
            principals=self.principals,
            models=self.models,
            policies=self.policies,
            guardrails=self.guardrails,
            knowledge=self.knowledge_retriever,
            templates=self.templates,
        )

    def routes(self) -> list[ControllerRouterHandler]:
        """Every controller of the plane, one line each."""
        identity = self.identity
        return [
            auth_controller(identity.auth, identity.passwords),
            two_factor_controller(identity.two_factor),
            accept_invitation_controller(identity.invitations),
            invitations_controller(identity.invitations),
            members_controller(identity.members),
            roles_controller(identity.roles),
            api_keys_controller(identity.api_keys),
            audit_controller(self.audit),
            internal_controller(self.principals, self._internal_token, self.control_callers),
            internal_policies_controller(self.policies, self._internal_token),
            policies_controller(self.policy_service),
            usage_controller(self.usage),
            guardrails_controller(self.guardrail_service),
            internal_guardrails_controller(self.guardrails, self._internal_token),
            model_definitions_controller(self.model_service),
            internal_models_controller(self.models, self._internal_token),
            knowledge_bases_controller(self.knowledge, self._max_upload_bytes),
            internal_knowledge_controller(self.knowledge_retriever, self._internal_token),
            templates_controller(self.template_service),
            internal_templates_controller(self.templates, self._internal_token),
        ]
