"""The ``Embedder`` port (inferia.contracts.knowledge), as the gateway serves it.

A local model (a plugin, in process) answers directly; any other model name is routed
like a /v1/embeddings request of the organisation: the same routing table, endpoint
choice, retries, fallbacks and circuit breakers. Each call is a usage record of the
organisation (api ``embeddings``, no API key, request id ``embed-...``), through the
same settle step as requests, so embedding costs show in ``/management/usage``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

import msgspec

from inferia.config import InferenceSettings
from inferia.contracts import Principal
from inferia.core.errors import InferiaError, NotFoundError, UpstreamError
from inferia.inference.local_embeddings import LocalEmbeddings
from inferia.inference.pipeline import Pipeline, RequestContext, Step
from inferia.inference.routing.table import RoutingTable
from inferia.inference.tokens import TokenCounter, counted_usage
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
        counter: TokenCounter,
        settle: Step,
    ) -> None:
        self._settings = settings
        self._table = table
        self._caller = caller
        self._local = local
        self._counter = counter
        # Only the usage event of settle: no admission was made, so nothing to release.
        self._settle = Pipeline()
        self._settle.append(settle)

    async def embed(
        self, organization_id: str, model: str, texts: Sequence[str]
    ) -> list[list[float]]:
        if not texts:
            return []
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
        try:
            vectors = await self._embed(ctx, texts)
        except InferiaError as exc:
            ctx.status, ctx.error_code = exc.status_code, exc.code
            raise
        finally:
            ctx.finished_at = time.monotonic()
            await self._settle.finish(ctx)
        return vectors

    async def _embed(self, ctx: RequestContext, texts: Sequence[str]) -> list[list[float]]:
        if self._local.serves(ctx.model):
            vectors = await self._local.embed(texts)
            ctx.usage = await counted_usage(self._counter, ctx, "")
            return vectors
        deployment = self._table().find(ctx.principal.organization_id, ctx.model)
        if deployment is None:
            raise NotFoundError(f"the embeddings model '{ctx.model}' does not exist")
        reply = await self._caller.call(ctx, deployment, "/embeddings")
        try:
            items = _decode(reply.first).data
        except (msgspec.DecodeError, msgspec.ValidationError):
            reply.close(healthy=False, finished=True, settings=self._settings)
            raise UpstreamError("the embeddings reply is not an embeddings list") from None
        reply.close(healthy=True, finished=True, settings=self._settings)
        if len(items) != len(texts):
            raise UpstreamError(f"the embeddings model returned {len(items)} vectors")
        ctx.usage = reply.usage or await counted_usage(self._counter, ctx, "")
        return [item.embedding for item in sorted(items, key=lambda item: item.index)]
