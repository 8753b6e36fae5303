"""The /v1 POST endpoints (chat completions, completions, embeddings): the thin entry.

Per request: the method check, the request id, the client's exchange (its body, its
reply, the OpenAI error envelope: api/exchange.py), then the hand-off to the request
flow (inferia.inference.flow), which holds everything else. Served by the process' HTTP
entry beside Litestar (inferia.core.http_entry).
"""

from __future__ import annotations

import time
from typing import Any

from inferia.core.errors import InferiaError
from inferia.core.http_entry import AsgiHandler
from inferia.core.logging import current_request_id
from inferia.core.request_id import RequestIds
from inferia.inference.api.exchange import AsgiExchange
from inferia.inference.flow import PATHS, RequestFlow
from inferia.inference.pipeline import Api


class MethodNotAllowedError(InferiaError):
    status_code = 405
    code = "method_not_allowed"


class V1Endpoints:
    def __init__(
        self,
        flow: RequestFlow,
        request_ids: RequestIds,
        max_body: int,
        body_timeout_s: float = 30.0,
    ) -> None:
        self._flow = flow
        self._request_ids = request_ids
        self._max_body = max_body
        self._body_timeout_s = body_timeout_s

    def routes(self) -> dict[str, AsgiHandler]:
        """Their handlers by path."""
        return {f"/v1{path}": self.handler(api) for api, path in PATHS.items()}

    def handler(self, api: Api) -> AsgiHandler:
        flow = self._flow
        request_ids = self._request_ids
        max_body = self._max_body
        body_timeout_s = self._body_timeout_s

        async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
            arrived = time.perf_counter()
            client = AsgiExchange(scope, receive, send, request_ids, max_body, body_timeout_s)
            token = current_request_id.set(client.request_id)
            try:
                if scope["method"] != "POST":
                    await client.answer_error(MethodNotAllowedError("Only POST is allowed here."))
                    flow.requests[api, MethodNotAllowedError.status_code] += 1
                    return
                await flow.run(api, client, arrived)
            finally:
                current_request_id.reset(token)

        return endpoint
