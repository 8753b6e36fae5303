"""What the attack tests share: a real ``inferia serve`` on a backend pair, and an
HTTP client of its policy plane that logs in, creates people and keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pyotp

from tests.conftest import BackendPair
from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import gateway
from tests.identity_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CHEAP_ARGON2_ENV,
    PASSWORD,
    totp_code,
    unique_email,
)
from tests.processes import InferiaServer, inferia_env


def server_env(backend_pair: BackendPair, **settings: str) -> dict[str, str]:
    return inferia_env(
        backend_pair.data_dir,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **CHEAP_ARGON2_ENV,
        **backend_pair.env(),
        **settings,
    )


@contextmanager
def attacked_gateway(
    tmp: Path, *, every_plane: bool = False, **settings: str
) -> Iterator[tuple[FakeUpstream, InferiaServer, dict[str, str]]]:
    """A gateway whose one model ``m`` (inferia.toml) is a fake upstream's ``a``, with
    the first-start operator of ``Api.login``."""
    with gateway(
        tmp,
        1,
        lambda fake: [{"name": "m", "base_url": fake.url("a")}],
        None,
        every_plane=every_plane,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **CHEAP_ARGON2_ENV,
        **settings,
    ) as running:
        yield running


@contextmanager
def servers(env: dict[str, str], count: int = 1) -> Iterator[list[InferiaServer]]:
    """``count`` processes sharing one database and state backend."""
    with ExitStack() as stack:
        yield [stack.enter_context(InferiaServer(env)) for _ in range(count)]


class Api:
    """One person's view of a server's policy plane."""

    def __init__(self, server: InferiaServer, access_token: str = "") -> None:
        self.server = server
        self.base_url = server.base_url
        self.access_token = access_token

    @classmethod
    def login(
        cls, server: InferiaServer, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
    ) -> Api:
        reply = httpx.post(
            f"{server.base_url}/auth/login", json={"email": email, "password": password}
        )
        assert reply.status_code == 200, reply.text
        return cls(server, reply.json()["access_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"} if self.access_token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.base_url}{path}", headers=self.headers, timeout=30, **kwargs
        )

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.request("POST", path, json=body)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, params=params)

    def add_member(self, role: str = "member", email: str | None = None) -> tuple[str, str]:
        """A new account in the caller's organisation: (user id, e-mail)."""
        email = email or unique_email()
        reply = self.post("/admin/users", {"email": email, "password": PASSWORD, "role": role})
        assert reply.status_code == 201, reply.text
        return reply.json()["user_id"], email

    def create_key(self, **body: Any) -> dict[str, Any]:
        reply = self.post("/management/api-keys", {"name": "attack", **body})
        assert reply.status_code == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created


def sdk(server: InferiaServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=f"{server.base_url}/v1", max_retries=0)


def enable_totp(api: Api) -> tuple[pyotp.TOTP, list[str]]:
    """Turn 2FA on for ``api``'s person: their TOTP and recovery codes."""
    secret = api.post("/auth/totp/setup").json()["secret"]
    enabled = api.post("/auth/totp/verify", {"code": totp_code(secret)})
    assert enabled.status_code == 200, enabled.text
    return pyotp.TOTP(secret), enabled.json()["recovery_codes"]


def wrong_code(totp: pyotp.TOTP) -> str:
    """A well-formed code that matches no step of the accepted window."""
    valid = {totp_code(totp.secret, offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)
