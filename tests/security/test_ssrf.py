"""SSRF: attacks that try to make the gateway connect where a tenant must not reach.

Each test is the attack on a real ``inferia serve`` (or, for the address policy itself,
on ``refusal``, which the server applies when a URL is set, when the routing table is
built and at connection time).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import openai
import pytest
from aiohttp import web

from inferia.contracts.internal_client import InternalClient
from inferia.contracts.models import RemoteModelSource
from inferia.contracts.principals import INTERNAL_TOKEN_HEADER
from inferia.core.errors import RemoteServiceError
from inferia.core.ssrf import refusal
from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import PLANES, client, create_key, write_config
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, free_port, inferia_env

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # shared address space (CGNAT, cluster overlays)
        "100.127.255.254",
        "192.0.0.8",  # IETF protocol assignments
        "fec0::1",  # site-local IPv6
        "2002:7f00:1::",  # 6to4 form of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 form of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 form of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 form of the metadata service
        "64:ff9b:1::a00:1",  # local-use NAT64 form of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "::ffff:10.0.0.1",
        "fd00::1",
    ],
)
def test_api_defined_upstreams_must_be_globally_routable(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) is not None


@pytest.mark.parametrize(
    "address", ["2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", "::ffff:169.254.169.254"]
)
def test_link_local_in_any_disguise_is_refused_even_for_operators(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=True) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "2002:808:808::"])
def test_global_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) is None


@pytest.fixture(scope="module")
def redirecting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A gateway whose one upstream ("a") is hostile: it answers with redirects to an
    internal service ("b", standing for anything on the gateway's network)."""
    tmp = tmp_path_factory.mktemp("ssrf-redirect")
    fake = FakeUpstream([free_port(), free_port()]).start()
    try:
        config = write_config(
            tmp / "inferia.toml",
            [{"name": "m", "base_url": fake.url("a")}],
            # Every attack here fails the endpoint: keep its circuit closed throughout.
            {"max_retries": 0, "circuit_failure_threshold": 1000},
        )
        env = inferia_env(
            tmp / "data",
            INFERIA_CONFIG=str(config),
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            **CHEAP_ARGON2_ENV,
        )
        with InferiaServer(env, PLANES) as server:
            yield {"fake": fake, "server": server, "key": create_key(env)}
    finally:
        fake.stop()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_redirect_is_not_followed(
    redirecting: dict[str, Any], status: int, stream: bool
) -> None:
    fake: FakeUpstream = redirecting["fake"]
    fake.reset()
    internal = fake.url("b").removesuffix("/v1") + "/internal/secret"
    fake.set("a", status=status, redirect_to=internal)
    sdk = client(redirecting["server"], redirecting["key"])
    with pytest.raises(openai.APIStatusError) as caught:
        if stream:
            list(sdk.chat.completions.create(stream=True, **BODY))
        else:
            sdk.chat.completions.create(**BODY)
    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_redirect"
    # The internal service never saw the prompt (nor the endpoint's headers).
    assert [r["instance"] for r in fake.requests()] == ["a"]
    fake.set("a", status=200, redirect_to=None)


def test_an_api_defined_upstream_in_nat64_disguise_is_refused(
    redirecting: dict[str, Any],
) -> None:
    server: InferiaServer = redirecting["server"]
    login = httpx.post(
        f"{server.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    headers = {"authorization": f"Bearer {login.json()['access_token']}"}
    for base_url in (
        "http://[64:ff9b::a9fe:a9fe]/v1",  # the metadata service behind NAT64
        "http://100.64.0.1:8000/v1",  # a cluster overlay address
    ):
        created = httpx.post(
            f"{server.base_url}/management/models",
            headers=headers,
            json={"name": "sneaky", "endpoints": [{"base_url": base_url}]},
        )
        assert created.status_code == 422, created.text
        assert created.json()["error"]["param"].startswith("endpoints")


async def test_a_redirect_from_the_filtration_url_does_not_carry_the_internal_token() -> None:
    """Split mode: whatever answers at ``remote.filtration_url`` cannot send the internal
    service credential elsewhere with a redirect."""
    seen: list[str | None] = []

    async def sink(request: web.Request) -> web.Response:
        seen.append(request.headers.get(INTERNAL_TOKEN_HEADER))
        return web.json_response([])

    async def redirector(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": f"{sink_url}/internal/models"})

    servers: list[web.AppRunner] = []
    urls: list[str] = []
    for handler in (sink, redirector):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        servers.append(runner)
        urls.append(f"http://127.0.0.1:{port}")
    sink_url, hostile_url = urls
    try:
        async with aiohttp.ClientSession() as session:
            client = InternalClient(
                lambda: session, hostile_url, "internal-secret", 5.0, "filtration"
            )
            with pytest.raises(RemoteServiceError):
                await RemoteModelSource(client).load()
        assert seen == []
    finally:
        for runner in servers:
            await runner.cleanup()
