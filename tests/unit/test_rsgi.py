"""The RSGI entry (inferia.core.rsgi), its ASGI bridge and the hot path's RSGI helpers,
against in-memory stand-ins for granian's scope and protocol objects. The real server
path is covered end to end by tests/e2e (every request there goes through it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from granian.rsgi import ProtocolClosed
from litestar import Litestar, Request, get, post
from litestar.params import PathParameter
from litestar.response import Stream

from inferia.core.asgi_bridge import split_address
from inferia.core.client_address import ClientAddresses
from inferia.core.errors import PayloadTooLargeError
from inferia.core.request_id import RequestIds, valid_request_id
from inferia.core.rsgi import RsgiApp
from inferia.inference.api.exchange import ClientGone
from inferia.inference.api.rsgi_exchange import RsgiExchange, _DisconnectWatch

NO_PROXIES = ClientAddresses([])


class Scope:
    def __init__(
        self,
        path: str = "/",
        method: str = "GET",
        headers: dict[str, str] | None = None,
        query_string: str = "",
        client: str = "127.0.0.1:50000",
    ) -> None:
        self.proto = "http"
        self.http_version = "1.1"
        self.scheme = "http"
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = Headers(headers or {})
        self.client = client
        self.server = "127.0.0.1:8000"


class Headers(dict[str, str]):
    """RSGIHeaders: a mapping whose ``items()`` is a list of pairs."""


class Transport:
    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol

    async def send_bytes(self, data: bytes) -> None:
        if self._protocol.gone:
            raise ProtocolClosed("closed")
        self._protocol.chunks.append(data)


class Protocol:
    """The body in ``parts``; records the response."""

    def __init__(self, *parts: bytes, gone: bool = False) -> None:
        self._parts = parts
        self.gone = gone
        self.disconnected = asyncio.Event()
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.body: bytes | None = None
        self.chunks: list[bytes] = []

    async def __call__(self) -> bytes:
        if self.gone:
            raise ProtocolClosed("closed")
        return b"".join(self._parts)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            if self.gone:
                raise ProtocolClosed("closed")
            yield part

    async def client_disconnect(self) -> None:
        await self.disconnected.wait()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Transport:
        self.status, self.headers = status, headers
        return Transport(self)


@get("/echo/{name:str}")
async def echo(
    request: Request[Any, Any, Any], name: Annotated[str, PathParameter()]
) -> dict[str, Any]:
    return {
        "name": name,
        "query": dict(request.query_params),
        "header": request.headers.get("x-thing"),
        "client": request.client.host if request.client else None,
        "url": str(request.url),
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


def litestar() -> Litestar:
    return Litestar([echo, upload, stream])


async def test_a_litestar_route_sees_the_request_as_asgi_would_give_it() -> None:
    app = RsgiApp(litestar(), {}, NO_PROXIES)
    scope = Scope(
        "/echo/a b",
        headers={"x-thing": "yes", "host": "example.test"},
        query_string="q=1&r=%20x",
        client="[::1]:4321",
    )
    protocol = Protocol()
    await app.__rsgi__(scope, protocol)
    assert protocol.status == 200
    assert ("content-type", "application/json") in protocol.headers
    assert protocol.body is not None
    assert b'"name":"a b"' in protocol.body
    assert b'"query":{"q":"1","r":" x"}' in protocol.body
    assert b'"header":"yes"' in protocol.body
    assert b'"client":"::1"' in protocol.body
    assert b'"url":"http://example.test/echo/a b?q=1&r=%20x"' in protocol.body


async def test_behind_a_trusted_proxy_the_app_sees_the_forwarded_client() -> None:
    forwarded = {"x-forwarded-for": "203.0.113.9, 10.1.2.3"}
    proxies = ClientAddresses(["10.0.0.0/8"])
    for peer, seen in (("10.0.0.1:1234", b'"client":"203.0.113.9"'), ("8.8.8.8:99", b'"8.8.8.8"')):
        protocol = Protocol()
        scope = Scope("/echo/x", headers=forwarded, client=peer)
        await RsgiApp(litestar(), {}, proxies).__rsgi__(scope, protocol)
        assert protocol.body is not None and seen in protocol.body
    # The hot path reads the same rule.
    scope = Scope("/v1/chat/completions", "POST", headers=forwarded, client="10.0.0.1:1")
    assert exchange(scope, Protocol(), proxies).client_address == "203.0.113.9"
    assert exchange(scope, Protocol()).client_address == "10.0.0.1"


def exchange(
    scope: Scope, protocol: Protocol, addresses: ClientAddresses = NO_PROXIES, limit: int = 10
) -> RsgiExchange:
    return RsgiExchange(scope, protocol, RequestIds(), limit, addresses)


async def test_a_chunked_body_reaches_the_app_whole() -> None:
    chunked = Scope("/upload", "POST", headers={"transfer-encoding": "chunked"})
    protocol = Protocol(b"x" * 1000, b"y" * 24)
    await RsgiApp(litestar(), {}, NO_PROXIES).__rsgi__(chunked, protocol)
    assert (protocol.status, protocol.body) == (201, b'{"size":1024}')
    # No content-length and no transfer-encoding: no body, and the app is not kept waiting.
    protocol = Protocol(b"ignored")
    await RsgiApp(litestar(), {}, NO_PROXIES).__rsgi__(Scope("/upload", "POST"), protocol)
    assert (protocol.status, protocol.body) == (201, b'{"size":0}')


async def test_a_streamed_response_is_relayed_part_by_part() -> None:
    protocol = Protocol()
    await RsgiApp(litestar(), {}, NO_PROXIES).__rsgi__(Scope("/stream"), protocol)
    assert protocol.status == 200
    assert protocol.body is None
    assert b"".join(protocol.chunks) == b"one,two,three"


async def test_unknown_paths_get_litestars_404() -> None:
    protocol = Protocol()
    await RsgiApp(litestar(), {}, NO_PROXIES).__rsgi__(Scope("/nope"), protocol)
    assert protocol.status == 404


async def test_direct_routes_skip_litestar_with_or_without_a_trailing_slash() -> None:
    seen: list[str] = []

    async def direct(scope: Any, protocol: Any) -> None:
        seen.append(scope.path)
        protocol.response_bytes(200, [], b"direct")

    app = RsgiApp(litestar(), {"/v1/x": direct}, NO_PROXIES)
    for path in ("/v1/x", "/v1/x/"):
        protocol = Protocol()
        await app.__rsgi__(Scope(path, "POST"), protocol)
        assert protocol.body == b"direct"
    assert seen == ["/v1/x", "/v1/x/"]


def test_the_lifespan_runs_start_up_before_serving_and_shutdown_after() -> None:
    events: list[str] = []
    app = Litestar([echo], on_startup=[lambda: events.append("up")])
    app.on_shutdown.append(lambda: events.append("down"))
    entry = RsgiApp(app, {}, NO_PROXIES)
    loop = asyncio.new_event_loop()
    try:
        entry.__rsgi_init__(loop)
        assert events == ["up"]
        entry.__rsgi_del__(loop)
        assert events == ["up", "down"]
    finally:
        loop.close()


def test_a_failed_start_up_stops_the_worker() -> None:
    def broken() -> None:
        raise RuntimeError("no database")

    entry = RsgiApp(Litestar([echo], on_startup=[broken]), {}, NO_PROXIES)
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(SystemExit) as stopped:
            entry.__rsgi_init__(loop)
        assert stopped.value.code == 1
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:5000", ("127.0.0.1", 5000)),
        ("[::1]:443", ("::1", 443)),
        ("/run/inferia.sock", ("/run/inferia.sock", 0)),
        ("", None),
    ],
)
def test_addresses_as_asgi_tuples(text: str, address: tuple[str, int] | None) -> None:
    assert split_address(text) == address


async def test_read_body_with_a_declared_length() -> None:
    scope = Scope(method="POST", headers={"content-length": "5"})
    assert await exchange(scope, Protocol(b"hello"), limit=5).read_body() == b"hello"
    with pytest.raises(PayloadTooLargeError):
        await exchange(scope, Protocol(b"hello"), limit=4).read_body()


async def test_read_body_chunked_stops_at_the_limit() -> None:
    scope = Scope(method="POST")
    assert await exchange(scope, Protocol(b"ab", b"cd"), limit=4).read_body() == b"abcd"
    with pytest.raises(PayloadTooLargeError):
        await exchange(scope, Protocol(b"ab", b"cd", b"e"), limit=4).read_body()


async def test_read_body_from_a_client_that_left() -> None:
    for headers in ({"content-length": "2"}, {}):
        with pytest.raises(ClientGone):
            await exchange(Scope(headers=headers), Protocol(b"ab", gone=True)).read_body()


async def test_disconnect_watch_cancels_the_request_once_armed() -> None:
    protocol = Protocol()

    async def request() -> None:
        _DisconnectWatch(protocol, grace_s=0.01)
        await asyncio.sleep(10)

    task = asyncio.create_task(request())
    await asyncio.sleep(0.02)
    protocol.disconnected.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("req-7", True), ("a.b:c_d-1", True), ("a b", False), ("abc\n", False), ("x" * 129, False)],
)
def test_request_ids_echoed_only_when_sane(value: str, valid: bool) -> None:
    assert (valid_request_id(value) == value) is valid
