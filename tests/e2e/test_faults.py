"""Faults against a real ``inferia serve`` (issue 17, item 25): slow-loris clients, and
an upstream that times out, resets the connection, answers garbage or a 5xx.

Each upstream failure gives the client the documented clean error (docs/api.md) within a
bounded time, and the server's log names the failure's class and status under the
request's id. A client that trickles its header byte by byte is cut off after
``server.header_read_timeout_s``, one trickling its body gets a 408 after
``server.body_read_timeout_s``; neither holds up anyone else meanwhile.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.gateway_fixtures import create_key, gateway
from tests.processes import InferiaServer, wait_until

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 1.0
SLOW_CLIENTS = 20
# Generous for a loaded 2-core machine; the point is "bounded", not "fast".
BOUND_S = 15.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("faults")
    models = lambda fake: [{"name": "m", "base_url": fake.url("a")}]  # noqa: E731
    inference = {
        "max_retries": 0,
        "read_timeout_s": READ_TIMEOUT_S,
        # Every failure here is on purpose: keep the endpoint's circuit closed.
        "circuit_failure_threshold": 100000,
    }
    with gateway(
        tmp,
        1,
        models,
        inference,
        INFERIA_SERVER__HEADER_READ_TIMEOUT_S=str(HEADER_TIMEOUT_S),
        INFERIA_SERVER__BODY_READ_TIMEOUT_S=str(HEADER_TIMEOUT_S),
    ) as (fake, server, env):
        yield {"fake": fake, "server": server, "key": create_key(env)}


def _chat(server: InferiaServer, key: str, **fake: Any) -> httpx.Response:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    if fake:
        body["fake"] = fake
    return httpx.post(
        f"{server.base_url}/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {key}"},
        timeout=BOUND_S * 2,
    )


@pytest.mark.parametrize(
    ("fake", "status", "failure", "upstream_status"),
    [
        ({"hang": True}, 504, "timeout", "-"),
        ({"reset": True}, 502, "connection", "-"),
        ({"malformed": True}, 502, "server_error", "200"),
        ({"status": 500}, 502, "server_error", "500"),
        ({"status": 502}, 502, "server_error", "502"),
        ({"status": 503}, 503, "server_error", "503"),
    ],
    ids=["timeout", "reset", "malformed-json", "500", "502", "503"],
)
def test_an_upstream_failure_gives_a_clean_error_and_is_logged_with_class_and_status(
    running: dict[str, Any],
    fake: dict[str, Any],
    status: int,
    failure: str,
    upstream_status: str,
) -> None:
    server: InferiaServer = running["server"]
    started = time.monotonic()
    reply = _chat(server, running["key"], **fake)
    took = time.monotonic() - started
    assert reply.status_code == status, reply.text
    assert took < BOUND_S, f"the error took {took:.1f}s"
    error = reply.json()["error"]
    assert set(error) >= {"message", "type", "code"}, error
    # Upstream 5xx bodies are not passed on (they may describe internals).
    assert "fake failure" not in error["message"]
    request_id = reply.headers["x-request-id"]
    expected = f"class={failure} status={upstream_status}"

    def logged() -> list[str]:
        return [
            line
            for line in server.output.splitlines()
            if "upstream call failed: model=m " in line and request_id in line
        ]

    try:
        wait_until(logged, timeout=10)
    except AssertionError:
        raise AssertionError(f"no log line for {request_id}:\n{server.output[-3000:]}") from None
    assert any(expected in line for line in logged()), (expected, logged())
    # The server is still fine afterwards.
    assert _chat(server, running["key"]).status_code == 200


class _Trickler(threading.Thread):
    """A raw connection sending ``head`` at once, then ``tail`` a byte every
    ``interval_s``; records when (if) the server closed the connection."""

    def __init__(self, port: int, head: bytes, tail: bytes, interval_s: float) -> None:
        super().__init__(daemon=True)
        self._port, self._head, self._tail, self._interval = port, head, tail, interval_s
        self.opened_at = 0.0
        self.closed_after: float | None = None
        self.reply = b""
        self.stop = threading.Event()

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self._port), timeout=5) as sock:
            self.opened_at = time.monotonic()
            try:
                sock.sendall(self._head)
                for byte in self._tail:
                    # Read before writing: a byte sent after the server's answer and
                    # close would draw a reset that discards the unread answer.
                    if self.stop.wait(self._interval) or self._closed(sock):
                        return
                    sock.sendall(bytes([byte]))
                # All sent: wait for the server to answer or close.
                while not self.stop.is_set() and not self._closed(sock, 0.5):
                    pass
            except OSError:
                self.closed_after = time.monotonic() - self.opened_at

    def _closed(self, sock: socket.socket, wait_s: float = 0.0) -> bool:
        sock.settimeout(wait_s) if wait_s else sock.setblocking(False)
        try:
            data = sock.recv(4096)
        except (BlockingIOError, TimeoutError):
            return False
        except OSError:
            data = b""
        finally:
            sock.settimeout(5)
        # An answer (a 408, say) or the end of the connection: either way it is over.
        self.closed_after = time.monotonic() - self.opened_at
        self.reply = data
        return True


@contextmanager
def _trickling(port: int, head: bytes, tail: bytes) -> Iterator[list[_Trickler]]:
    """``SLOW_CLIENTS`` tricklers, a byte every 0.2 s, started and then stopped."""
    slow = [_Trickler(port, head, tail, 0.2) for _ in range(SLOW_CLIENTS)]
    for client in slow:
        client.start()
    try:
        wait_until(lambda: all(c.opened_at for c in slow), timeout=BOUND_S)
        yield slow
    finally:
        for client in slow:
            client.stop.set()
        for client in slow:
            client.join(10)


def _others_are_served(running: dict[str, Any], count: int = 20) -> None:
    server: InferiaServer = running["server"]
    for _ in range(count):
        started = time.monotonic()
        assert httpx.get(f"{server.base_url}/health", timeout=BOUND_S).status_code == 200
        assert _chat(server, running["key"]).status_code == 200
        assert time.monotonic() - started < BOUND_S


def test_slow_loris_headers_do_not_block_others_and_are_cut_off(
    running: dict[str, Any],
) -> None:
    server: InferiaServer = running["server"]
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    # Far longer than the timeout allows: 200 bytes at 0.2 s each is 40 s.
    tail = b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with _trickling(server.port, head, tail) as slow:
        _others_are_served(running)
        # Every trickling connection is closed by the server, about the header timeout
        # after it opened (generous bound: the machine may be loaded).
        wait_until(lambda: all(c.closed_after is not None for c in slow), timeout=BOUND_S * 2)
        took = [c.closed_after for c in slow if c.closed_after is not None]
        assert max(took) < HEADER_TIMEOUT_S + BOUND_S, took
        assert min(took) >= HEADER_TIMEOUT_S * 0.9, took
    _others_are_served(running, 3)


def test_slow_loris_bodies_do_not_block_others_and_get_a_408(running: dict[str, Any]) -> None:
    server: InferiaServer = running["server"]
    body = b'{"model": "m", "messages": [{"role": "user", "content": "' + b"a" * 400 + b'"}]}'
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + running["key"].encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with _trickling(server.port, head, body) as slow:
        _others_are_served(running)
        # Each is answered 408 about ``server.body_read_timeout_s`` after its header.
        wait_until(lambda: all(c.closed_after is not None for c in slow), timeout=BOUND_S * 2)
        took = [c.closed_after for c in slow if c.closed_after is not None]
        assert max(took) < HEADER_TIMEOUT_S + BOUND_S, took
        assert min(took) >= HEADER_TIMEOUT_S * 0.9, took
        # The answer is a 408 (read unless the connection was reset just as it came).
        replies = [c.reply for c in slow if c.reply]
        assert replies, "no trickling client got an answer"
        assert all(reply.startswith(b"HTTP/1.1 408") for reply in replies), replies
    _others_are_served(running, 3)
