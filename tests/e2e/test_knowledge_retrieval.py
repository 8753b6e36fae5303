"""Retrieval on the request path, through the official openai SDK: a real ``inferia
serve`` (SQLite, local embeddings plugin) in front of the fake upstream, which records
what it receives. The injected chunks must arrive upstream, the ``inferia`` field must
not, and the citations must name the documents the chunks came from.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import PLANES, client, create_key, write_config
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.knowledge_support import CORPUS_TEXT, admin_headers, content_type, file_bytes
from tests.processes import InferiaServer, free_port, inferia_env, run_cli, wait_until
from tests.services import require_module

pytestmark = pytest.mark.e2e
QUESTION = "How many days of paid vacation does an employee get each year?"
KNOWLEDGE = """
[knowledge]
local_embedding_models = ["minilm"]
model_knowledge_bases = { "kbm" = ["handbook"] }
"""


class Stack:
    def __init__(self, fake: FakeUpstream, server: InferiaServer, env: dict[str, str]) -> None:
        self.fake, self.server, self.env = fake, server, env
        self.documents: dict[str, str] = {}  # name -> id

    def last_upstream_body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.fake.requests()[-1]["body"]
        return body


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_module("inferia_embeddings_local")
    tmp: Path = tmp_path_factory.mktemp("knowledge")
    fake = FakeUpstream([free_port()]).start()
    try:
        config = write_config(
            tmp / "inferia.toml",
            [{"name": "m", "base_url": fake.url("a")}, {"name": "kbm", "base_url": fake.url("a")}],
        )
        config.write_text(config.read_text() + KNOWLEDGE)
        env = inferia_env(
            tmp / "data",
            INFERIA_CONFIG=str(config),
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            # The fake upstream is on loopback; /management/models refuses that otherwise.
            INFERIA_INFERENCE__ALLOW_PRIVATE_API_UPSTREAMS="true",
            **CHEAP_ARGON2_ENV,
        )
        with InferiaServer(env, PLANES) as server:
            running = Stack(fake, server, env)
            headers = admin_headers(server.base_url)
            base = httpx.post(
                f"{server.base_url}/management/knowledge-bases",
                headers=headers,
                json={"name": "handbook", "embedding_model": "minilm", "chunk_tokens": 64},
            )
            assert base.status_code == 201, base.text
            root = f"{server.base_url}/management/knowledge-bases/{base.json()['id']}/documents"
            for name in CORPUS_TEXT:
                reply = httpx.post(
                    root,
                    headers=headers,
                    files={"file": (name, file_bytes(name), content_type(name))},
                    data={"title": f"Handbook: {name}"},
                )
                assert reply.status_code == 202, reply.text
                running.documents[name] = reply.json()["id"]
            for document_id in running.documents.values():
                wait_until(
                    lambda d=document_id: (
                        httpx.get(f"{root}/{d}", headers=headers).json()["state"] == "ready"
                    ),
                    timeout=60,
                    interval=0.1,
                )
            yield running
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def sdk(stack: Stack) -> openai.OpenAI:
    return client(stack.server, create_key(stack.env))


def _system_texts(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "system"]


def test_chunks_are_injected_and_cited(stack: Stack, sdk: openai.OpenAI) -> None:
    reply = sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"inferia": {"knowledge_bases": ["handbook"], "top_k": 2}},
    )
    upstream = stack.last_upstream_body()
    assert "inferia" not in upstream
    (system,) = _system_texts(upstream)
    assert "27 days of paid vacation" in system
    assert "[1] Handbook: vacation.md (part 1)" in system
    assert upstream["messages"][-1] == {"role": "user", "content": QUESTION}

    citations = (reply.model_extra or {})["inferia"]["citations"]
    assert 1 <= len(citations) <= 2
    first = citations[0]
    assert first["document_id"] == stack.documents["vacation.md"]
    assert first["title"] == "Handbook: vacation.md"
    assert first["knowledge_base"] == "handbook"
    assert first["position"] == 0
    assert 0 < first["score"] <= 1
    # Nothing is cited that was not injected.
    for citation in citations:
        assert f"{citation['title']} (part {citation['position'] + 1})" in system


def test_streams_end_with_the_citations(stack: Stack, sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "When does the parking garage close?"}],
            stream=True,
            extra_body={"inferia": {"knowledge_bases": ["handbook"], "top_k": 1}},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text  # the upstream's reply still arrives
    last = chunks[-1].model_extra or {}
    (citation,) = last["inferia"]["citations"]
    assert citation["document_id"] == stack.documents["parking.txt"]
    assert all("inferia" not in (c.model_extra or {}) for c in chunks[:-1])
    assert "10 pm" in _system_texts(stack.last_upstream_body())[0]


def test_a_models_default_knowledge_bases(stack: Stack, sdk: openai.OpenAI) -> None:
    reply = sdk.chat.completions.create(
        model="kbm", messages=[{"role": "user", "content": "How often must I change my password?"}]
    )
    assert "every 90 days" in _system_texts(stack.last_upstream_body())[0]
    assert (reply.model_extra or {})["inferia"]["citations"][0]["document_id"] == (
        stack.documents["security.html"]
    )


def test_an_api_models_default_knowledge_bases(stack: Stack, sdk: openai.OpenAI) -> None:
    """/management/models ``knowledge_bases``: searched for requests that name none; an
    unknown name is refused, and a knowledge base in use cannot be deleted."""
    base_url = stack.server.base_url
    headers = admin_headers(base_url)
    endpoint = {"base_url": stack.fake.url("a")}
    unknown = httpx.post(
        f"{base_url}/management/models",
        headers=headers,
        json={"name": "kbapi", "endpoints": [endpoint], "knowledge_bases": ["no-such-base"]},
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["param"] == "knowledge_bases"
    created = httpx.post(
        f"{base_url}/management/models",
        headers=headers,
        json={"name": "kbapi", "endpoints": [endpoint], "knowledge_bases": ["handbook"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["knowledge_bases"] == ["handbook"]
    model_id = created.json()["id"]

    def answered_from_the_handbook() -> bool:
        try:
            sdk.chat.completions.create(
                model="kbapi", messages=[{"role": "user", "content": "When does parking close?"}]
            )
        except openai.NotFoundError:
            return False  # the routing table has not taken the new model yet
        return any("10 pm" in text for text in _system_texts(stack.last_upstream_body()))

    wait_until(answered_from_the_handbook, timeout=10, interval=0.1)
    bases = httpx.get(f"{base_url}/management/knowledge-bases", headers=headers).json()
    handbook = next(b for b in bases["data"] if b["name"] == "handbook")
    refused = httpx.delete(
        f"{base_url}/management/knowledge-bases/{handbook['id']}", headers=headers
    )
    assert refused.status_code == 409, refused.text
    assert "kbapi" in refused.text
    cleared = httpx.patch(
        f"{base_url}/management/models/{model_id}", headers=headers, json={"knowledge_bases": []}
    )
    assert cleared.status_code == 200 and cleared.json()["knowledge_bases"] == []


def test_requests_without_knowledge_bases_are_untouched(stack: Stack, sdk: openai.OpenAI) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    reply = sdk.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
    assert stack.last_upstream_body()["messages"] == messages
    assert "inferia" not in (reply.model_extra or {})


def test_unrelated_questions_inject_nothing(stack: Stack, sdk: openai.OpenAI) -> None:
    question = "Quelle est la capitale de la Mongolie ?"
    reply = sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": question}],
        extra_body={"inferia": {"knowledge_bases": ["handbook"], "top_k": 3}},
    )
    citations = (reply.model_extra or {})["inferia"]["citations"]
    injected = _system_texts(stack.last_upstream_body())
    # Whatever passes the similarity threshold is both injected and cited; nothing else.
    assert len(injected) == (1 if citations else 0)


@pytest.mark.parametrize(
    ("extension", "param"),
    [
        ({"knowledge_bases": "handbook"}, "inferia.knowledge_bases"),
        ({"knowledge_bases": [1]}, "inferia.knowledge_bases[0]"),
        ({"knowledge_bases": ["handbook"], "top_k": "4"}, "inferia.top_k"),
        ({"knowledge_bases": ["handbook"], "top_k": 1000}, "inferia.top_k"),
        ("handbook", "inferia"),
    ],
)
def test_wrong_types_are_400_naming_the_field(
    sdk: openai.OpenAI, extension: Any, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"inferia": extension},
        )
    assert caught.value.body["param"] == param  # type: ignore[index]


def test_unknown_and_other_organisations_knowledge_bases_are_404(stack: Stack) -> None:
    sdk = client(stack.server, create_key(stack.env))
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"inferia": {"knowledge_bases": ["no-such-base"]}},
        )
    slug = f"other-{secrets.token_hex(3)}"
    created = run_cli(["admin", "create-org", "--slug", slug, "--owner", ADMIN_EMAIL], stack.env)
    assert created.returncode == 0, created.stderr
    made = run_cli(["keys", "create", "--org", slug, "--name", "other"], stack.env)
    assert made.returncode == 0, made.stderr
    other = client(stack.server, made.stdout.strip())
    count = len(stack.fake.requests())
    with pytest.raises(openai.NotFoundError):
        other.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"inferia": {"knowledge_bases": ["handbook"]}},
        )
    assert len(stack.fake.requests()) == count  # nothing of the handbook went anywhere


def test_v1_embeddings_of_the_local_model(stack: Stack, sdk: openai.OpenAI) -> None:
    count = len(stack.fake.requests())
    texts = ["The cat sits on the mat.", "A feline rests on a rug.", "Quarterly revenue grew."]
    # Left out, the SDK asks for base64 and decodes it; float is asked for explicitly.
    for options in ({}, {"encoding_format": "float"}):
        reply = sdk.embeddings.create(model="minilm", input=texts, **options)  # type: ignore[arg-type]
        vectors = [item.embedding for item in reply.data]
        assert [len(v) for v in vectors] == [384, 384, 384]
        assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-3
        similar = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
        unrelated = sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True))
        assert similar > unrelated + 0.3
        assert reply.usage.prompt_tokens > 0
    assert len(stack.fake.requests()) == count  # served in process, no upstream
    with pytest.raises(openai.BadRequestError):
        sdk.embeddings.create(model="minilm", input=[[1, 2, 3]])


def test_retrieved_text_passes_the_input_guardrails(stack: Stack, sdk: openai.OpenAI) -> None:
    # The default input policy redacts PII; a document that carries an address is
    # redacted in the injected context before it reaches the upstream.
    headers = admin_headers(stack.server.base_url)
    bases = httpx.get(f"{stack.server.base_url}/management/knowledge-bases", headers=headers)
    root = f"{stack.server.base_url}/management/knowledge-bases/{bases.json()['data'][0]['id']}"
    text = b"Questions about payroll go to payroll.team@example.com, who answer within a day."
    doc = httpx.post(
        f"{root}/documents", headers=headers, files={"file": ("payroll.txt", text, "text/plain")}
    ).json()
    wait_until(
        lambda: (
            httpx.get(f"{root}/documents/{doc['id']}", headers=headers).json()["state"] == "ready"
        ),
        timeout=60,
    )
    reply = sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Who do I ask about payroll?"}],
        extra_body={"inferia": {"knowledge_bases": ["handbook"], "top_k": 1}},
    )
    assert (reply.model_extra or {})["inferia"]["citations"][0]["document_id"] == doc["id"]
    (system,) = _system_texts(stack.last_upstream_body())
    assert "who answer within a day" in system
    assert "payroll.team@example.com" not in system


def test_embedding_calls_are_usage_of_the_organisation(stack: Stack) -> None:
    headers = admin_headers(stack.server.base_url)

    def logs() -> list[dict[str, Any]]:
        reply = httpx.get(
            f"{stack.server.base_url}/management/logs",
            headers=headers,
            params={"model": "minilm", "limit": 200},
        )
        assert reply.status_code == 200, reply.text
        data: list[dict[str, Any]] = reply.json()["data"]
        return [row for row in data if row["request_id"].startswith("embed-")]

    wait_until(lambda: len(logs()) >= len(CORPUS_TEXT), timeout=10)
    rows = logs()
    assert all(row["api"] == "embeddings" and row["status"] == 200 for row in rows)
    assert all(row["prompt_tokens"] > 0 for row in rows)
