"""Prompt templates end to end: managed through ``/management/templates``, picked by a
request through the openai SDK's ``extra_body={"inferia": {...}}`` or by its model's
default, rendered in front of the request's messages, and seen by the fake upstream
exactly so; the ``inferia`` field itself never reaches it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import PLANES, client, create_key, split_planes
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV, PASSWORD
from tests.processes import InferiaServer, free_port, inferia_env, run_cli

pytestmark = pytest.mark.e2e
SUPPORT: dict[str, Any] = {
    "name": "support",
    "messages": [
        {"role": "system", "content": "You help {{ customer }} with {{ product }}."},
        {"role": "user", "content": "My plan: {{ plan.tier }}{% if vip %} (VIP){% endif %}"},
    ],
    "variables": [
        {"name": "customer", "type": "string", "required": True},
        {"name": "product", "type": "string", "default": "Inferia"},
        {"name": "plan", "type": "object", "default": {"tier": "free"}},
        {"name": "vip", "type": "boolean"},
    ],
}
HI = [{"role": "user", "content": "hi"}]


def session(base_url: str, email: str, password: str, org: str | None = None) -> dict[str, str]:
    body = {"email": email, "password": password, **({"organization": org} if org else {})}
    login = httpx.post(f"{base_url}/auth/login", json=body)
    assert login.status_code == 200, login.text
    return {"authorization": f"Bearer {login.json()['access_token']}"}


class Stack:
    def __init__(self, fake: FakeUpstream, server: InferiaServer, env: dict[str, str]) -> None:
        self.fake, self.server, self.env = fake, server, env
        self.admin = session(server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        self.sdk = client(server, create_key(env))
        self.models: dict[str, str] = {}

    def api(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        url = f"{self.server.base_url}/management{path}"
        return httpx.request(method, url, headers=headers or self.admin, **kwargs)

    def upstream_body(self, **create: Any) -> dict[str, Any]:
        """What the upstream received for one chat completion."""
        self.sdk.chat.completions.create(**create)
        body: dict[str, Any] = self.fake.requests()[-1]["body"]
        return body


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("templates")
    fake = FakeUpstream([free_port()]).start()
    env = inferia_env(
        data,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        INFERIA_INFERENCE__ALLOW_PRIVATE_API_UPSTREAMS="true",
        **CHEAP_ARGON2_ENV,
    )
    try:
        with InferiaServer(env, PLANES) as server:
            stack = Stack(fake, server, env)
            for name in ("plain", "helpdesk"):
                model = {"name": name, "endpoints": [{"base_url": fake.url("a")}]}
                created = stack.api("POST", "/models", json=model)
                assert created.status_code == 201, created.text
                stack.models[name] = created.json()["id"]
            wait_for(lambda: {"plain", "helpdesk"} <= {m.id for m in stack.sdk.models.list()})
            yield stack
    finally:
        fake.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def create_template(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    created = stack.api("POST", "/templates", json=body)
    assert created.status_code == 201, created.text
    record: dict[str, Any] = created.json()
    return record


def ensure_template(stack: Stack, body: dict[str, Any]) -> None:
    """For tests that only use the template (and may run alone, -k)."""
    if not any(t["name"] == body["name"] for t in stack.api("GET", "/templates").json()["data"]):
        create_template(stack, body)


def test_rendered_messages_arrive_upstream_before_the_requests_own(stack: Stack) -> None:
    existing = stack.api("GET", "/templates").json()["data"]
    for template in existing:
        if template["name"] == "support":
            assert stack.api("DELETE", f"/templates/{template['id']}").status_code == 204
    record = create_template(stack, SUPPORT)
    assert (record["name"], record["version"], record["active_version"]) == ("support", 1, 1)
    variables = {"customer": "Ada", "plan": {"tier": "pro"}, "vip": True}
    seen = stack.upstream_body(
        model="plain",
        messages=HI,
        extra_body={"inferia": {"template": "support", "variables": variables}},
    )
    assert seen["messages"] == [
        {"role": "system", "content": "You help Ada with Inferia."},
        {"role": "user", "content": "My plan: pro (VIP)"},
        *HI,
    ]
    assert "inferia" not in seen
    # Streamed requests are shaped the same way.
    stream = stack.sdk.chat.completions.create(
        model="plain",
        messages=HI,
        stream=True,
        extra_body={"inferia": {"template": "support", "variables": {"customer": "Bo"}}},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    seen = stack.fake.requests()[-1]["body"]
    assert seen["messages"][0]["content"] == "You help Bo with Inferia."
    assert seen["messages"][1]["content"] == "My plan: free"
    assert "inferia" not in seen


def test_input_guardrails_scan_the_rendered_messages(stack: Stack) -> None:
    """A variable is the caller's text: the default policy redacts an e-mail address in
    it as it would in the request's own messages."""
    ensure_template(stack, SUPPORT)
    seen = stack.upstream_body(
        model="plain",
        messages=HI,
        extra_body={
            "inferia": {"template": "support", "variables": {"customer": "ada@example.com"}}
        },
    )
    assert seen["messages"][0]["content"] == "You help <EMAIL_1> with Inferia."


def test_without_a_template_the_body_is_untouched_but_for_the_field(stack: Stack) -> None:
    assert stack.upstream_body(model="plain", messages=HI)["messages"] == HI
    seen = stack.upstream_body(model="plain", messages=HI, extra_body={"inferia": {}})
    assert seen["messages"] == HI and "inferia" not in seen
    # /v1/completions and /v1/embeddings drop the field too.
    stack.sdk.embeddings.create(model="plain", input="x", extra_body={"inferia": {}})
    assert "inferia" not in stack.fake.requests()[-1]["body"]


def test_versions_activation_rollback_and_pinning(stack: Stack) -> None:
    body = {
        "name": "versioned",
        "messages": [{"role": "system", "content": "v1"}],
    }
    record = create_template(stack, body)
    added = stack.api(
        "POST",
        f"/templates/{record['id']}/versions",
        json={"messages": [{"role": "system", "content": "v2 for {{ who }}"}],
              "variables": [{"name": "who", "type": "string", "default": "you"}]},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    assert (added.json()["version"], added.json()["active_version"]) == (2, 1)

    def system(**inferia: Any) -> str:
        seen = stack.upstream_body(
            model="plain", messages=HI, extra_body={"inferia": {"template": "versioned", **inferia}}
        )
        content: str = seen["messages"][0]["content"]
        return content

    assert system() == "v1"
    assert system(version=2, variables={"who": "Ada"}) == "v2 for Ada"
    activated = stack.api("POST", f"/templates/{record['id']}/activate", json={"version": 2})
    assert activated.status_code == 200 and activated.json()["active_version"] == 2
    wait_for(lambda: system() == "v2 for you")  # a change event, not a restart
    assert (
        stack.api("POST", f"/templates/{record['id']}/activate", json={"version": 1}).status_code
        == 200
    )  # rollback
    wait_for(lambda: system() == "v1")
    assert system(version=2) == "v2 for you"  # a pinned version stays available

    detail = stack.api("GET", f"/templates/{record['id']}").json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    listed = stack.api("GET", "/templates").json()["data"]
    assert "versioned" in {t["name"] for t in listed}
    preview = stack.api(
        "POST", f"/templates/{record['id']}/render", json={"variables": {"who": "Al"}, "version": 2}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "version": 2,
        "messages": [{"role": "system", "content": "v2 for Al"}],
    }

    audit = httpx.get(
        f"{stack.server.base_url}/audit/logs",
        params={"action": "template.*"},
        headers=stack.admin,
    ).json()["data"]
    actions = sorted(r["action"] for r in audit if r.get("target") == record["id"])
    assert actions == [
        "template.activate",
        "template.activate",
        "template.create",
        "template.version.create",
    ]
    assert stack.api("DELETE", f"/templates/{record['id']}").status_code == 204
    assert stack.api("GET", f"/templates/{record['id']}").status_code == 404


def test_a_models_default_template(stack: Stack) -> None:
    helpdesk = f"/models/{stack.models['helpdesk']}"
    # Only a template the organisation has can be a default.
    missing = stack.api("PATCH", helpdesk, json={"template": "greeting"})
    assert missing.status_code == 422 and missing.json()["error"]["param"] == "template"
    greeting = create_template(
        stack,
        {
            "name": "greeting",
            "messages": [{"role": "system", "content": "Be kind to {{ who }}."}],
            "variables": [{"name": "who", "type": "string", "default": "everyone"}],
        },
    )
    updated = stack.api("PATCH", helpdesk, json={"template": "greeting"})
    assert updated.status_code == 200 and updated.json()["template"] == "greeting"

    def first() -> str:
        seen = stack.upstream_body(model="helpdesk", messages=HI)
        content: str = seen["messages"][0]["content"]
        return content

    wait_for(lambda: _quietly(first) == "Be kind to everyone.")
    seen = stack.upstream_body(
        model="helpdesk", messages=HI, extra_body={"inferia": {"variables": {"who": "Ada"}}}
    )
    assert seen["messages"] == [{"role": "system", "content": "Be kind to Ada."}, *HI]
    # Embeddings of the model are not shaped.
    stack.sdk.embeddings.create(model="helpdesk", input="x")
    assert stack.fake.requests()[-1]["body"]["input"] == "x"
    # A request's own choice wins over the default.
    ensure_template(stack, SUPPORT)
    seen = stack.upstream_body(
        model="helpdesk",
        messages=HI,
        extra_body={"inferia": {"template": "support", "variables": {"customer": "Cy"}}},
    )
    assert seen["messages"][0]["content"] == "You help Cy with Inferia."
    # A template in use as a default cannot be deleted; clearing the default frees it.
    in_use = stack.api("DELETE", f"/templates/{greeting['id']}")
    assert in_use.status_code == 409 and "helpdesk" in in_use.text
    assert stack.api("PATCH", helpdesk, json={"template": None}).status_code == 200
    assert stack.api("DELETE", f"/templates/{greeting['id']}").status_code == 204
    wait_for(lambda: _quietly(first) == "hi")  # the model's requests are plain again


def _quietly(call: Callable[[], str]) -> str | None:
    try:
        return call()
    except openai.APIError:
        return None


@pytest.mark.parametrize(
    ("inferia", "status", "param"),
    [
        ("support", 400, "inferia"),
        ({"template": 3}, 400, "inferia.template"),
        ({"template": "support", "version": "2"}, 400, "inferia.version"),
        ({"template": "support", "version": 0}, 400, "inferia.version"),
        ({"template": "support", "variables": []}, 400, "inferia.variables"),
        ({"templat": "support"}, 400, "inferia.templat"),
        ({"template": "support"}, 400, "inferia.variables.customer"),
        ({"template": "support", "variables": {"customer": 7}}, 400, "inferia.variables.customer"),
        (
            {"template": "support", "variables": {"customer": "A", "vip": "yes"}},
            400,
            "inferia.variables.vip",
        ),
        (
            {"template": "support", "variables": {"customer": "A", "x": 1}},
            400,
            "inferia.variables.x",
        ),
        ({"template": "nope"}, 404, "inferia.template"),
        ({"template": "support", "version": 99}, 404, "inferia.version"),
        ({"variables": {"a": 1}}, 400, "inferia.template"),
    ],
)
def test_bad_extension_fields_get_the_openai_envelope(
    stack: Stack, inferia: Any, status: int, param: str
) -> None:
    ensure_template(stack, SUPPORT)
    before = len(stack.fake.requests())
    with pytest.raises(openai.APIStatusError) as refused:
        stack.sdk.chat.completions.create(
            model="plain", messages=HI, extra_body={"inferia": inferia}
        )
    assert refused.value.status_code == status
    assert refused.value.body["param"] == param  # type: ignore[index]
    assert len(stack.fake.requests()) == before  # nothing went upstream


def test_templates_that_break_the_sandbox_or_the_bounds(stack: Stack) -> None:
    def create(content: str, name: str) -> httpx.Response:
        body = {"name": name, "messages": [{"role": "system", "content": content}]}
        return stack.api("POST", "/templates", json=body)

    for index, content in enumerate(
        ("{% include 'x' %}", "{{ secret }}", "{% import 'm' as m %}", "{{ oops ")
    ):
        reply = create(content, f"bad-{index}")
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["param"] == "messages[0].content"
    for name, content in (
        ("escape", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
        ("loops", "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"),
        ("huge", "{{ 'x' * 100000000 }}"),
    ):
        record = create(content, name)
        assert record.status_code == 201, record.text
        with pytest.raises(openai.BadRequestError) as refused:
            stack.sdk.chat.completions.create(
                model="plain", messages=HI, extra_body={"inferia": {"template": name}}
            )
        assert refused.value.body["param"] == "inferia.template"  # type: ignore[index]
        preview = stack.api("POST", f"/templates/{record.json()['id']}/render", json={})
        assert preview.status_code == 400, preview.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "messages": []},
        {"name": "x", "messages": [{"role": "wizard", "content": "hi"}]},
        {"name": "bad name!", "messages": [{"role": "system", "content": "hi"}]},
        {
            "name": "x",
            "messages": [{"role": "system", "content": "hi"}],
            "variables": [{"name": "a", "type": "float"}],
        },
        {
            "name": "x",
            "messages": [{"role": "system", "content": "{{ a }}"}],
            "variables": [{"name": "a", "type": "integer", "default": "one"}],
        },
    ],
)
def test_bad_template_bodies_are_422(stack: Stack, body: dict[str, Any]) -> None:
    reply = stack.api("POST", "/templates", json=body)
    assert reply.status_code == 422, reply.text


def test_other_organisations_and_roles(stack: Stack) -> None:
    record = create_template(
        stack, {"name": "private", "messages": [{"role": "system", "content": "ours"}]}
    )
    env = stack.env
    for args in (
        ["admin", "create-user", "--email", "viewer@example.com", "--password", PASSWORD,
         "--role", "viewer"],
        ["admin", "create-user", "--email", "stranger@example.com", "--password", PASSWORD],
        ["admin", "create-org", "--slug", "elsewhere", "--owner", "stranger@example.com"],
    ):  # fmt: skip
        result = run_cli(args, env)
        assert result.returncode == 0, result.stderr
    base = stack.server.base_url
    viewer = session(base, "viewer@example.com", PASSWORD)
    assert stack.api("GET", f"/templates/{record['id']}", viewer).status_code == 200
    for method, path, body in (
        ("POST", "/templates", {"name": "v", "messages": [{"role": "system", "content": "x"}]}),
        ("POST", f"/templates/{record['id']}/activate", {"version": 1}),
        ("DELETE", f"/templates/{record['id']}", None),
    ):
        assert stack.api(method, path, viewer, json=body).status_code == 403

    stranger = session(base, "stranger@example.com", PASSWORD, org="elsewhere")
    assert stack.api("GET", "/templates", stranger).json()["data"] == []
    for method, path, body in (
        ("GET", f"/templates/{record['id']}", None),
        ("POST", f"/templates/{record['id']}/versions", {"messages": [{"role": "system",
                                                                       "content": "x"}]}),
        ("POST", f"/templates/{record['id']}/activate", {"version": 1}),
        ("POST", f"/templates/{record['id']}/render", {}),
        ("DELETE", f"/templates/{record['id']}", None),
    ):  # fmt: skip
        assert stack.api(method, path, stranger, json=body).status_code == 404
    # A key of the other organisation cannot use the template by name either.
    other_key = run_cli(["keys", "create", "--name", "x", "--org", "elsewhere"], env)
    assert other_key.returncode == 0, other_key.stderr
    other = client(stack.server, other_key.stdout.strip())
    with pytest.raises(openai.NotFoundError) as refused:
        other.chat.completions.create(
            model="plain", messages=HI, extra_body={"inferia": {"template": "private"}}
        )
    assert refused.value.body["param"] in ("model", "inferia.template")  # type: ignore[index]
    assert stack.api("GET", f"/templates/{record['id']}").status_code == 200


def test_the_docs_example_runs_as_written(tmp_path: Path) -> None:
    """docs/prompting.md's example, run against a fresh server with its env vars set."""
    source = (Path(__file__).parents[2] / "docs" / "prompting.md").read_text()
    example = source.split("```python\n", 1)[1].split("```", 1)[0]
    fake = FakeUpstream([free_port()]).start()
    env = inferia_env(
        tmp_path,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        INFERIA_INFERENCE__ALLOW_PRIVATE_API_UPSTREAMS="true",
        **CHEAP_ARGON2_ENV,
    )
    try:
        with InferiaServer(env, PLANES) as server:
            stack = Stack(fake, server, env)
            model = {"name": "docs-model", "endpoints": [{"base_url": fake.url("a")}]}
            assert stack.api("POST", "/models", json=model).status_code == 201
            wait_for(lambda: "docs-model" in {m.id for m in stack.sdk.models.list()})
            run = subprocess.run(
                [sys.executable, "-c", example],
                env={
                    **os.environ,
                    "INFERIA_URL": server.base_url,
                    "INFERIA_MODEL": "docs-model",
                    "INFERIA_EMAIL": ADMIN_EMAIL,
                    "INFERIA_PASSWORD": ADMIN_PASSWORD,
                    "INFERIA_API_KEY": create_key(env),
                },
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert run.returncode == 0, run.stderr
            lines = run.stdout.splitlines()
            assert lines[:2] == [
                "support 1 1",
                "You are Acme support. The customer is Ada, a pro user.",
            ]
            sent = [r["body"] for r in fake.requests() if r["path"].endswith("/chat/completions")]
            assert sent[-2]["messages"] == [
                {"role": "system", "content": "You are Acme support. The customer is Ada."},
                {"role": "user", "content": "My invoice is wrong."},
            ]
            assert sent[-1]["messages"][0] == {
                "role": "system",
                "content": "You are Acme support. The customer is Bo.",
            }
            assert all("inferia" not in body for body in sent)
    finally:
        fake.stop()


def test_split_mode_reads_templates_over_the_internal_port(tmp_path: Path) -> None:
    fake = FakeUpstream([free_port()]).start()
    try:
        with split_planes(tmp_path) as (f, inference, filtration_env):
            admin = session(f.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
            for path, body in (
                ("/management/models", {"name": "m", "endpoints": [{"base_url": fake.url("a")}]}),
                ("/management/templates", SUPPORT),
            ):
                reply = httpx.post(f"{f.base_url}{path}", json=body, headers=admin)
                assert reply.status_code == 201, reply.text
            sdk = client(inference, create_key(filtration_env))
            wait_for(lambda: "m" in {m.id for m in sdk.models.list()})
            sdk.chat.completions.create(
                model="m",
                messages=HI,
                extra_body={"inferia": {"template": "support", "variables": {"customer": "Di"}}},
            )
            seen = fake.requests()[-1]["body"]
            assert seen["messages"][0]["content"] == "You help Di with Inferia."
            assert "inferia" not in seen
            assert httpx.get(f"{f.base_url}/internal/templates/x").status_code == 401
    finally:
        fake.stop()
