"""API key attacks: a key must not outlive its owner's right to act, and nobody mints
keys in another member's name without the right to manage members."""

from __future__ import annotations

import time

import pytest

from tests.conftest import BackendPair
from tests.e2e.test_keys_revocation import refused_after
from tests.identity_support import PASSWORD
from tests.processes import run_cli
from tests.security.attack_support import Api, sdk, server_env, servers

pytestmark = pytest.mark.e2e

OFFBOARDINGS = ("remove member", "disable membership", "disable account (CLI)")


def test_an_offboarded_persons_keys_stop_on_every_process_within_a_second(
    backend_pair: BackendPair,
) -> None:
    env = server_env(backend_pair)
    with servers(env, 2) as (first, second):
        admin = Api.login(first)
        timings = {}
        for how in OFFBOARDINGS:
            user_id, email = admin.add_member()
            leaver = Api.login(first, email, PASSWORD)
            key = leaver.create_key()["key"]
            clients = [sdk(server, key) for server in (first, second)]
            for client in clients:
                for _ in range(3):  # cached on both processes
                    client.models.list()
            if how == "remove member":
                assert admin.request("DELETE", f"/admin/users/{user_id}").status_code == 204
            elif how == "disable membership":
                reply = admin.request("PATCH", f"/admin/users/{user_id}", json={"active": False})
                assert reply.status_code == 200, reply.text
            else:
                done = run_cli(["admin", "disable-user", "--account", "--email", email], env)
                assert done.returncode == 0, done.stderr
            started = time.monotonic()
            timings[how] = refused_after(clients[1], started)
            refused_after(clients[0], time.monotonic())
        assert max(timings.values()) < 1.0, timings
