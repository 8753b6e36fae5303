"""Readiness: a model server is ready when ``GET <endpoint>/models`` answers 200 with its
key (llama.cpp's server has no /health; vLLM's and SGLang's /v1/models work too)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp


class ReadinessProbe:
    def __init__(self, session: Callable[[], aiohttp.ClientSession], timeout_s: float) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def ready(self, endpoint: str, api_key: str) -> bool:
        try:
            async with self._session().get(
                endpoint.rstrip("/") + "/models",
                headers={"authorization": f"Bearer {api_key}"},
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                await response.read()
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
