"""``POST /internal/embeddings``: the embeddings port's server side in split mode, for a
policy plane that ingests and retrieves knowledge-base text in another process."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from inferia.contracts.knowledge import EMBED_PATH, Embedder, EmbedReply, EmbedRequest
from inferia.contracts.principals import INTERNAL_TOKEN_HEADER
from inferia.core.internal_guard import internal_token_guard


def internal_embeddings_controller(embedder: Embedder, internal_token: str) -> type[Controller]:
    class InternalEmbeddingsController(Controller):
        path = EMBED_PATH
        guards = [internal_token_guard(internal_token, INTERNAL_TOKEN_HEADER)]
        include_in_schema = False

        @post("/", status_code=200)
        async def embed(self, data: JSONBody[EmbedRequest]) -> EmbedReply:
            return EmbedReply(await embedder.embed(data.organization_id, data.model, data.texts))

    return InternalEmbeddingsController
