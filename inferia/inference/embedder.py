"""The ``Embedder`` port (inferia.contracts.knowledge), as the gateway serves it.

A local model (a plugin, in process) answers directly; any other model name is routed
like a /v1/embeddings request of the organisation: the same routing table, endpoint
choice, retries, fallbacks and circuit breakers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

import msgspec

from inferia.config import InferenceSettings
from inferia.contracts import Principal
from inferia.core.errors import NotFoundError, UpstreamError
from inferia.inference.local_embeddings import LocalEmbeddings
from inferia.inference.pipeline import RequestContext
from inferia.inference.routing.table import RoutingTable
from inferia.inference.upstream.caller import UpstreamCaller


class _Item(msgspec.Struct):
    embedding: list[float]
    index: int = 0


class _Reply(msgspec.Struct):
    data: list[_Item]


_decode = msgspec.json.Decoder(_Reply).decode


class GatewayEmbedder:
    def __init__(
        self,
        settings: InferenceSettings,
        table: Callable[[], RoutingTable],
        caller: UpstreamCaller,
        local: LocalEmbeddings,
    ) -> None:
        self._settings = settings
        self._table = table
        self._caller = caller
        self._local = local

    async def embed(
        self, organization_id: str, model: str, texts: Sequence[str]
    ) -> list[list[float]]:
        if not texts:
            return []
        if self._local.serves(model):
            return await self._local.embed(texts)
        deployment = self._table().find(organization_id, model)
        if deployment is None:
            raise NotFoundError(f"the embeddings model '{model}' does not exist")
        ctx = RequestContext(
            request_id=f"embed-{uuid.uuid4().hex[:16]}",
            # The platform acting for the organisation: not one of its API keys.
            principal=Principal(organization_id=organization_id, key_id="", name="knowledge"),
            api="embeddings",
            model=model,
            body={"model": model, "input": list(texts)},
            stream=False,
            client_address=None,
            received_at=time.monotonic(),
        )
        reply = await self._caller.call(ctx, deployment, "/embeddings")
        try:
            items = _decode(reply.first).data
        except (msgspec.DecodeError, msgspec.ValidationError):
            reply.close(healthy=False, finished=True, settings=self._settings)
            raise UpstreamError("the embeddings reply is not an embeddings list") from None
        reply.close(healthy=True, finished=True, settings=self._settings)
        if len(items) != len(texts):
            raise UpstreamError(f"the embeddings model returned {len(items)} vectors")
        return [item.embedding for item in sorted(items, key=lambda item: item.index)]
