"""Revocation attacks: a key must stop working everywhere, even when the announcement
of its revocation is lost on the way to another process."""

from __future__ import annotations

import threading
import time

import httpx
import openai
import pytest
import redis

from tests.conftest import BackendPair
from tests.e2e.test_keys_revocation import refused_after
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, inferia_env

pytestmark = pytest.mark.e2e


def _keep_killing_subscribers(redis_url: str, stop: threading.Event) -> None:
    """Drop every pub/sub connection as soon as it is back, until ``stop``."""
    admin = redis.Redis.from_url(redis_url)
    try:
        while not stop.is_set():
            admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            time.sleep(0.001)
    finally:
        admin.close()


@pytest.mark.parametrize("backend_pair", ["postgres+redis"], indirect=True)
def test_a_revocation_announced_while_a_server_reconnects_still_takes_effect(
    backend_pair: BackendPair,
) -> None:
    env = inferia_env(
        backend_pair.data_dir,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **CHEAP_ARGON2_ENV,
        **backend_pair.env(),
    )
    with InferiaServer(env) as first, InferiaServer(env) as second:
        access = httpx.post(
            f"{first.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        headers = {"authorization": f"Bearer {access}"}
        created = httpx.post(
            f"{first.base_url}/management/api-keys", headers=headers, json={"name": "victim"}
        ).json()
        other = openai.OpenAI(
            api_key=created["key"], base_url=f"{second.base_url}/v1", max_retries=0
        )
        for _ in range(3):  # the second server now answers this key from its cache
            other.models.list()

        stop = threading.Event()
        killer = threading.Thread(
            target=_keep_killing_subscribers, args=(backend_pair.state_url, stop)
        )
        killer.start()
        try:
            time.sleep(0.2)
            revoked = httpx.delete(
                f"{first.base_url}/management/api-keys/{created['api_key']['id']}",
                headers=headers,
            )
            assert revoked.status_code == 200
            time.sleep(0.2)
        finally:
            stop.set()
            killer.join()
        # The announcement was lost; once the second server is subscribed again it drops
        # its cached principals (without that, the key would work until the cache's TTL).
        refused_after(other, time.monotonic(), limit_s=5.0)
