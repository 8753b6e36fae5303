"""``POST /internal/knowledge/retrieve``: the retriever port's server side in split mode."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from inferia.contracts.knowledge import RETRIEVE_PATH, RetrievedChunk, Retriever, RetrieveRequest
from inferia.filtration.internal import internal_token_guard


def internal_knowledge_controller(retriever: Retriever, internal_token: str) -> type[Controller]:
    class InternalKnowledgeController(Controller):
        path = RETRIEVE_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @post("/", status_code=200)
        async def retrieve(self, data: JSONBody[RetrieveRequest]) -> list[RetrievedChunk]:
            return await retriever.retrieve(
                data.organization_id, data.knowledge_bases, data.query, data.top_k
            )

    return InternalKnowledgeController
