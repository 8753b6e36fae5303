"""One pool's cluster and namespace, through kr8s's async client.

Thin on purpose: create (409 = already there), get (404 = None), delete (404 = gone),
list by labels, pod logs. Label filtering is repeated here on the results: cheap, and
exact whatever the server does with ``labelSelector``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import kr8s
import kr8s.asyncio
import yaml
from kr8s.asyncio.objects import Pod

from inferia_compute_kubernetes.config import PoolConfig

_PLURALS = {"Pod": "pods", "Service": "services", "Secret": "secrets"}


class ClusterError(RuntimeError):
    """The API server refused a request (RBAC, quota, validation): the message says why."""


def kubeconfig(credentials: Mapping[str, str]) -> dict[str, Any] | None:
    """The pool's ``kubeconfig`` credential (YAML or JSON text), parsed; None: the
    in-cluster service account or the default kubeconfig."""
    text = credentials.get("kubeconfig")
    if not text:
        return None
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"the pool's kubeconfig credential is not YAML: {exc}") from None
    if not isinstance(parsed, dict) or not parsed.get("clusters"):
        raise ValueError("the pool's kubeconfig credential has no clusters")
    return parsed


class Cluster:
    def __init__(self, config: PoolConfig, credentials: Mapping[str, str]) -> None:
        self.config = config
        self.namespace = config.namespace
        self._api: kr8s.asyncio.Api | None = None
        self._kubeconfig: dict[str, Any] | None = None
        self._error = ""
        try:
            self._kubeconfig = kubeconfig(credentials)
        except ValueError as exc:  # reported per replica, as the reason it failed
            self._error = str(exc)

    async def api(self) -> kr8s.asyncio.Api:
        if self._error:
            raise ClusterError(self._error)
        if self._api is None:
            # A dict kubeconfig is kr8s's own in-memory form; None falls back to
            # $KUBECONFIG or ~/.kube/config, else the pod's service account.
            try:
                self._api = await kr8s.asyncio.api(
                    kubeconfig=self._kubeconfig,  # type: ignore[arg-type]
                    namespace=self.namespace,
                    context=self.config.context,
                )
            except (ValueError, KeyError, FileNotFoundError) as exc:  # not a network error
                raise ClusterError(f"no usable Kubernetes credentials: {exc}") from None
        return self._api

    async def create(self, manifest: dict[str, Any]) -> bool:
        """True when created, False when it existed already."""
        plural = _PLURALS[manifest["kind"]]
        api = await self.api()
        async with api.call_api(
            "POST",
            url=plural,
            namespace=self.namespace,
            content=json.dumps(manifest),
            raise_for_status=False,
        ) as response:
            if response.status_code == 409:
                return False
            _raise_for(response, f"create {plural[:-1]} {manifest['metadata']['name']}")
        return True

    async def get(self, plural: str, name: str) -> dict[str, Any] | None:
        api = await self.api()
        async with api.call_api(
            "GET", url=f"{plural}/{name}", namespace=self.namespace, raise_for_status=False
        ) as response:
            if response.status_code == 404:
                return None
            _raise_for(response, f"read {plural[:-1]} {name}")
            body: dict[str, Any] = response.json()
        return body

    async def delete(self, plural: str, name: str) -> None:
        api = await self.api()
        async with api.call_api(
            "DELETE", url=f"{plural}/{name}", namespace=self.namespace, raise_for_status=False
        ) as response:
            if response.status_code != 404:
                _raise_for(response, f"delete {plural[:-1]} {name}")

    async def list(self, plural: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        api = await self.api()
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        async with api.call_api(
            "GET",
            url=plural,
            namespace=self.namespace,
            params={"labelSelector": selector},
            raise_for_status=False,
        ) as response:
            _raise_for(response, f"list {plural}")
            items: list[dict[str, Any]] = response.json().get("items") or []
        return [i for i in items if _matches(i, labels)]

    async def logs(self, pod: dict[str, Any], *, tail: int, follow: bool) -> AsyncIterator[str]:
        obj = Pod(pod, api=await self.api())
        async for line in obj.logs(tail_lines=tail, follow=follow, timeout=None):
            yield line

    async def close(self) -> None:
        session = getattr(self._api, "_session", None)
        self._api = None
        if session is not None:
            await session.aclose()


def _matches(item: dict[str, Any], labels: Mapping[str, str]) -> bool:
    have = (item.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def _raise_for(response: Any, action: str) -> None:
    if response.status_code < 400:
        return
    try:
        message = response.json().get("message") or response.text
    except ValueError:
        message = response.text
    raise ClusterError(f"kubernetes refused to {action}: {response.status_code} {message}")
