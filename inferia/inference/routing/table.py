"""The routing table: model name -> deployment -> endpoints, as an immutable snapshot.

Built from ``[[models]]`` (visible to every organisation) and the API-defined models
of the model-definition port (one organisation each; they shadow a global model of the
same name for that organisation). Rebuilt as a whole on a change event; per-endpoint
health survives rebuilds because it is kept by endpoint id.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

from inferia.config import (
    InferenceSettings,
    ModelEndpointSettings,
    RoutingStrategy,
    masked_url,
)
from inferia.contracts import ModelDefinition
from inferia.contracts.endpoints import LiveDeployment
from inferia.core.ssrf import SsrfRefused, check_url, hostname
from inferia.core.upstream_headers import (
    HeaderRefused,
    check_header_value,
    check_upstream_headers,
)
from inferia.inference.routing.endpoint import Endpoint, EndpointHealth
from inferia.inference.routing.strategies import Strategy, build_strategy

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class Deployment:
    """A model name as clients see it, served by one or more endpoints."""

    name: str
    organization_id: str | None
    strategy_name: RoutingStrategy
    strategy: Strategy
    endpoints: list[Endpoint]
    # The default prompt template and knowledge bases (API-defined models only).
    template: str | None = None
    knowledge_bases: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class EndpointSpec:
    """What an endpoint is made of, whichever source defined it."""

    base_url: str
    api_key: str
    upstream_model: str
    weight: int
    connect_timeout_s: float | None
    request_timeout_s: float | None
    headers: tuple[tuple[str, str], ...]


class RoutingTable:
    def __init__(self, deployments: Iterable[Deployment], strict_hosts: frozenset[str]) -> None:
        self._by_key: dict[tuple[str | None, str], Deployment] = {
            (d.organization_id, d.name): d for d in deployments
        }
        # Hosts of API-defined upstreams: the resolver refuses private addresses for them.
        self.strict_hosts = strict_hosts

    def find(self, organization_id: str, name: str) -> Deployment | None:
        return self._by_key.get((organization_id, name)) or self._by_key.get((None, name))

    def deployments(self) -> list[Deployment]:
        """Every deployment, of every organisation."""
        return list(self._by_key.values())

    def visible(self, organization_id: str) -> list[Deployment]:
        names: dict[str, Deployment] = {}
        for (org, name), deployment in self._by_key.items():
            if (org is None and name not in names) or org == organization_id:
                names[name] = deployment
        return sorted(names.values(), key=lambda d: d.name)


class RoutingTableBuilder:
    def __init__(self, settings: InferenceSettings) -> None:
        self._settings = settings
        # Health by endpoint id: survives rebuilds of the table.
        self._health: dict[str, EndpointHealth] = {}

    def build(
        self,
        configured: list[ModelEndpointSettings],
        defined: list[ModelDefinition],
        live: list[LiveDeployment] | None = None,
    ) -> RoutingTable:
        groups: dict[tuple[str | None, str], list[EndpointSpec]] = {}
        strategies: dict[tuple[str | None, str], RoutingStrategy] = {}
        templates: dict[tuple[str | None, str], str] = {}
        knowledge: dict[tuple[str | None, str], tuple[str, ...]] = {}
        key: tuple[str | None, str]
        for model in configured:
            key = (None, model.name)
            groups.setdefault(key, []).append(_spec_from_settings(model))
            if model.routing_strategy and key not in strategies:
                strategies[key] = model.routing_strategy
        strict_hosts: set[str] = set()
        # API-defined models whose defining process allowed private upstream addresses
        # (its ``inference.allow_private_api_upstreams``; this process' own value is not
        # read here, so split mode has one setting, on the process serving
        # /management/models).
        private_ok: set[tuple[str | None, str]] = set()
        for definition in defined:
            key = (definition.organization_id, definition.name)
            if definition.private_upstreams_allowed:
                private_ok.add(key)
            specs = groups.setdefault(key, [])
            for defined_endpoint in definition.endpoints:
                specs.append(
                    EndpointSpec(
                        base_url=defined_endpoint.base_url,
                        api_key=defined_endpoint.api_key,
                        upstream_model=defined_endpoint.upstream_model or definition.name,
                        weight=defined_endpoint.weight,
                        connect_timeout_s=defined_endpoint.connect_timeout_s,
                        request_timeout_s=defined_endpoint.request_timeout_s,
                        headers=tuple(sorted(defined_endpoint.headers.items())),
                    )
                )
                if not definition.private_upstreams_allowed:
                    strict_hosts.add(hostname(defined_endpoint.base_url))
            if definition.routing_strategy:
                strategies[key] = definition.routing_strategy
            if definition.template:
                templates[key] = definition.template
            if definition.knowledge_bases:
                knowledge[key] = definition.knowledge_bases
        # Model servers the orchestration plane started and probed: private addresses
        # (127.0.0.1 for the local adapter) are expected, like inferia.toml's.
        trusted: set[tuple[str | None, str]] = set()
        for deployment in live or ():
            key = (deployment.organization_id, deployment.served_name)
            trusted.add(key)
            groups.setdefault(key, []).extend(
                EndpointSpec(
                    base_url=e.base_url,
                    api_key=e.api_key,
                    upstream_model=e.upstream_model or deployment.served_name,
                    weight=1,
                    connect_timeout_s=None,
                    request_timeout_s=None,
                    headers=(),
                )
                for e in deployment.endpoints
            )
            if deployment.routing_strategy:
                strategies[key] = deployment.routing_strategy
        deployments = []
        for (org, name), specs in groups.items():
            endpoints = [
                endpoint
                for index, spec in enumerate(specs)
                if (
                    endpoint := self._endpoint(
                        org, name, index, spec, (org, name) in trusted or (org, name) in private_ok
                    )
                )
                is not None
            ]
            if not endpoints:
                continue
            strategy_name = strategies.get((org, name), self._settings.routing_strategy)
            deployments.append(
                Deployment(
                    name=name,
                    organization_id=org,
                    strategy_name=strategy_name,
                    strategy=build_strategy(
                        strategy_name,
                        endpoints,
                        self._settings.prefix_affinity_load_factor,
                        self._settings.prefix_affinity_chars,
                    ),
                    endpoints=endpoints,
                    template=templates.get((org, name)),
                    knowledge_bases=knowledge.get((org, name), ()),
                )
            )
        return RoutingTable(deployments, frozenset(strict_hosts))

    def _endpoint(
        self, org: str | None, name: str, index: int, spec: EndpointSpec, trusted: bool = False
    ) -> Endpoint | None:
        try:
            # inferia.toml URLs may be private; API-defined ones only if allowed.
            check_url(
                spec.base_url,
                allow_private=trusted or org is None,
            )
            check_upstream_headers(dict(spec.headers))
            check_header_value("api_key", spec.api_key)  # also api_key_env's value
        except (SsrfRefused, HeaderRefused) as exc:
            # Headers: rows stored before they were checked skip the endpoint, not the table.
            log.error("model %r: upstream %s refused: %s", name, masked_url(spec.base_url), exc)
            return None
        identity = f"{org}|{name}|{index}|{spec!r}"
        endpoint_id = hashlib.blake2b(identity.encode(), digest_size=6).hexdigest()
        # A user-agent of our own also spares aiohttp adding its default per request.
        headers = {
            "content-type": "application/json",
            "user-agent": "inferia",
            # Lower-cased: one value per name (ours or the endpoint's), never both.
            **{header.lower(): value for header, value in spec.headers},
        }
        if spec.api_key:
            headers["authorization"] = f"Bearer {spec.api_key}"
        settings = self._settings
        return Endpoint(
            id=endpoint_id,
            deployment=name,
            base_url=spec.base_url.rstrip("/"),
            upstream_model=spec.upstream_model,
            weight=spec.weight,
            connect_timeout_s=spec.connect_timeout_s or settings.connect_timeout_s,
            request_timeout_s=spec.request_timeout_s or settings.request_timeout_s,
            headers=headers,
            health=self._health.setdefault(endpoint_id, EndpointHealth()),
        )


def _spec_from_settings(model: ModelEndpointSettings) -> EndpointSpec:
    api_key = model.api_key or (os.environ.get(model.api_key_env, "") if model.api_key_env else "")
    return EndpointSpec(
        base_url=model.base_url,
        api_key=api_key,
        upstream_model=model.upstream_model or model.name,
        weight=model.weight,
        connect_timeout_s=model.connect_timeout_s,
        request_timeout_s=model.request_timeout_s,
        headers=tuple(sorted(model.headers.items())),
    )
