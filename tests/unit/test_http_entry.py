"""The process' HTTP entry (inferia.core.http_entry) and the /v1 endpoints' side of it
(inferia.inference.api.exchange), against in-memory ASGI messages. The real server path
is covered end to end by tests/e2e (every request there goes through it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import msgspec
import pytest
from litestar import Litestar, Request, get, post
from litestar.middleware import DefineMiddleware
from litestar.params import PathParameter
from litestar.response import Stream

from inferia.core.client_address import ClientAddresses
from inferia.core.errors import PayloadTooLargeError, RateLimitedError, UpstreamError
from inferia.core.http_entry import HttpEntry
from inferia.core.http_errors import EXCEPTION_HANDLERS, error_reply
from inferia.core.request_id import RequestIdMiddleware, RequestIds, valid_request_id
from inferia.inference.api.exchange import AsgiExchange, ClientGone, DisconnectWatch

NO_PROXIES = ClientAddresses([])


@get("/echo/{name:str}")
async def echo(
    request: Request[Any, Any, Any], name: Annotated[str, PathParameter()]
) -> dict[str, Any]:
    return {
        "name": name,
        "query": dict(request.query_params),
        "header": request.headers.get("x-thing"),
        "client": request.client.host if request.client else None,
        "request_id": request.scope["state"].get("request_id"),
    }


@post("/upload", status_code=201)
async def upload(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"size": len(await request.body())}


@get("/stream")
async def stream() -> Stream:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    return Stream(parts())


@get("/limited")
async def limited() -> None:
    raise RateLimitedError(
        "slow down", retry_after_s=1.2, headers={"x-ratelimit-limit-requests": "5"}
    )


def litestar(ids: RequestIds | None = None) -> Litestar:
    return Litestar(
        [echo, upload, stream, limited],
        middleware=[DefineMiddleware(RequestIdMiddleware, ids=ids or RequestIds())],
        exception_handlers=EXCEPTION_HANDLERS,
    )


def client(entry: HttpEntry, address: tuple[str, int] = ("127.0.0.1", 50000)) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=entry, client=address), base_url="http://testserver"
    )


async def test_litestar_routes_get_the_request_as_the_server_gave_it() -> None:
    async with client(HttpEntry(litestar(), {}, NO_PROXIES), ("::1", 4321)) as http:
        reply = await http.get("/echo/a b?q=1&r=%20x", headers={"x-thing": "yes"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["name"] == "a b"
    assert body["query"] == {"q": "1", "r": " x"}
    assert body["header"] == "yes"
    assert body["client"] == "::1"
    assert reply.headers["x-request-id"] == body["request_id"]


async def test_bodies_streams_and_unknown_paths_reach_litestar() -> None:
    async with client(HttpEntry(litestar(), {}, NO_PROXIES)) as http:
        upload = await http.post("/upload", content=b"x" * 1024)
        streamed = await http.get("/stream")
        unknown = await http.get("/nope")
    assert (upload.status_code, upload.json()) == (201, {"size": 1024})
    assert (streamed.status_code, streamed.content) == (200, b"one,two,three")
    assert unknown.status_code == 404


async def test_direct_routes_skip_litestar_with_or_without_a_trailing_slash() -> None:
    seen: list[str] = []

    async def direct(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"direct"})

    async with client(HttpEntry(litestar(), {"/v1/x": direct}, NO_PROXIES)) as http:
        for path in ("/v1/x", "/v1/x/"):
            assert (await http.post(path)).content == b"direct"
    assert seen == ["/v1/x", "/v1/x/"]


async def test_behind_a_trusted_proxy_every_route_sees_the_forwarded_client() -> None:
    forwarded = {"x-forwarded-for": "203.0.113.9, 10.1.2.3"}
    proxies = ClientAddresses(["10.0.0.0/8"])
    addresses: list[str | None] = []

    async def direct(scope: dict[str, Any], receive: Any, send: Any) -> None:
        exchange = AsgiExchange(scope, receive, send, RequestIds(), 100)
        addresses.append(exchange.client_address)
        await exchange.answer(b"{}", {}, 0.0)

    entry = HttpEntry(litestar(), {"/v1/x": direct}, proxies)
    for peer, seen in (("10.0.0.1", "203.0.113.9"), ("8.8.8.8", "8.8.8.8")):
        async with client(entry, (peer, 1234)) as http:
            assert (await http.get("/echo/x", headers=forwarded)).json()["client"] == seen
            await http.post("/v1/x", headers=forwarded)
        assert addresses[-1] == seen


async def test_litestar_routes_and_the_v1_endpoints_share_request_ids() -> None:
    ids = RequestIds()
    chosen: list[str] = []

    async def direct(scope: dict[str, Any], receive: Any, send: Any) -> None:
        exchange = AsgiExchange(scope, receive, send, ids, 100)
        chosen.append(exchange.request_id)
        await exchange.answer(b"{}", {}, 0.0)

    async with client(HttpEntry(litestar(ids), {"/v1/x": direct}, NO_PROXIES)) as http:
        litestar_id = (await http.get("/echo/x")).headers["x-request-id"]
        v1 = await http.post("/v1/x")
        echoed = await http.post("/v1/x", headers={"x-request-id": "req-7"})
        refused = await http.post("/v1/x", headers={"x-request-id": "bad id"})
    assert v1.headers["x-request-id"] == chosen[0]
    # One source: ids from one per-process counter, whichever route asked.
    assert litestar_id[:16] == chosen[0][:16] and litestar_id != chosen[0]
    assert echoed.headers["x-request-id"] == "req-7"
    assert refused.headers["x-request-id"] not in ("bad id", "")


async def test_one_error_writer_for_litestar_routes_and_the_v1_endpoints() -> None:
    error = RateLimitedError(
        "slow down", retry_after_s=1.2, headers={"x-ratelimit-limit-requests": "5"}
    )

    async def direct(scope: dict[str, Any], receive: Any, send: Any) -> None:
        exchange = AsgiExchange(scope, receive, send, RequestIds(), 100)
        await exchange.answer_error(error, {"x-ratelimit-limit-requests": "9", "x-other": "1"})

    async with client(HttpEntry(litestar(), {"/v1/x": direct}, NO_PROXIES)) as http:
        from_litestar = await http.get("/limited")
        from_v1 = await http.post("/v1/x")
    for reply in (from_litestar, from_v1):
        assert reply.status_code == 429
        assert reply.headers["retry-after"] == "2"
        assert reply.headers["x-ratelimit-limit-requests"] == "5"  # the error's own wins
        assert reply.headers["content-type"] == "application/json"
    assert from_litestar.content == from_v1.content
    assert from_v1.headers["x-other"] == "1"
    status, headers, body = error_reply(
        UpstreamError("busy", failure="rate_limited", retry_after_s=3)
    )
    assert (status, headers["retry-after"]) == (502, "3")
    assert msgspec.json.decode(body)["error"]["type"] == "server_error"


class Messages:
    """``receive`` handing out ``messages`` in order, then waiting until ``gone`` is set
    (and answering ``http.disconnect``)."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self._messages = list(messages)
        self.gone = asyncio.Event()
        self.received = 0

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        if self._messages:
            return self._messages.pop(0)
        await self.gone.wait()
        return {"type": "http.disconnect"}


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


def exchange(
    messages: Messages, headers: dict[str, str] | None = None, limit: int = 100
) -> AsgiExchange:
    scope = {
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", "5000"),
    }
    return AsgiExchange(scope, messages.receive, None, RequestIds(), limit)


async def test_a_body_of_declared_length_is_read_without_waiting_for_its_end() -> None:
    messages = Messages(body(b"hel", more=True), body(b"lo", more=True), body(b""))
    assert await exchange(messages, {"content-length": "5"}).read_body() == b"hello"
    assert messages.received == 2
    with pytest.raises(PayloadTooLargeError):
        await exchange(Messages(body(b"hello")), {"content-length": "5"}, limit=4).read_body()


async def test_a_chunked_body_is_stopped_at_the_limit() -> None:
    chunks = Messages(body(b"ab", more=True), body(b"cd", more=True), body(b""))
    assert await exchange(chunks, limit=4).read_body() == b"abcd"
    over = Messages(body(b"ab", more=True), body(b"cd", more=True), body(b"e"))
    with pytest.raises(PayloadTooLargeError):
        await exchange(over, limit=4).read_body()


async def test_a_client_that_leaves_mid_body_is_gone() -> None:
    messages = Messages(body(b"ab", more=True), {"type": "http.disconnect"})
    with pytest.raises(ClientGone):
        await exchange(messages, {"content-length": "10"}).read_body()


async def test_disconnect_watch_cancels_the_request_once_armed() -> None:
    # The end-of-body message a body of declared length left unread comes first.
    messages = Messages(body(b""))

    async def request() -> None:
        DisconnectWatch(messages.receive, grace_s=0.01)
        await asyncio.sleep(10)

    task = asyncio.create_task(request())
    await asyncio.sleep(0.05)
    assert not task.done()
    messages.gone.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("req-7", True), ("a.b:c_d-1", True), ("a b", False), ("abc\n", False), ("x" * 129, False)],
)
def test_request_ids_echoed_only_when_sane(value: str, valid: bool) -> None:
    assert (valid_request_id(value) == value) is valid
    assert (RequestIds().choose(value) == value) is valid
