"""Knowledge bases with the planes in separate processes: the policy plane embeds
uploads through the inference plane's /internal/embeddings, and the inference plane
retrieves through the policy plane's /internal/knowledge/retrieve."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key, write_config
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.knowledge_support import admin_headers, file_bytes
from tests.processes import InferiaServer, free_port, inferia_env, wait_until
from tests.services import require_module

pytestmark = pytest.mark.e2e


def test_split_planes_ingest_and_retrieve(tmp_path: Path) -> None:
    require_module("inferia_embeddings_local")
    fake = FakeUpstream([free_port()]).start()
    try:
        config = write_config(tmp_path / "inferia.toml", [{"name": "m", "base_url": fake.url()}])
        config.write_text(
            config.read_text() + '\n[knowledge]\nlocal_embedding_models = ["minilm"]\n'
        )
        filtration_port, inference_port = free_port(), free_port()
        env = inferia_env(
            tmp_path / "data",
            INFERIA_CONFIG=str(config),
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{filtration_port}",
            INFERIA_REMOTE__INFERENCE_URL=f"http://127.0.0.1:{inference_port}",
            **CHEAP_ARGON2_ENV,
        )
        with (
            InferiaServer(env, ["--plane", "filtration"], port=filtration_port) as filtration,
            InferiaServer(env, ["--plane", "inference"], port=inference_port) as inference,
        ):
            headers = admin_headers(filtration.base_url)
            base = httpx.post(
                f"{filtration.base_url}/management/knowledge-bases",
                headers=headers,
                json={"name": "handbook", "embedding_model": "minilm"},
            )
            assert base.status_code == 201, base.text
            root = f"{filtration.base_url}/management/knowledge-bases/{base.json()['id']}/documents"
            doc = httpx.post(
                root,
                headers=headers,
                files={"file": ("vacation.md", file_bytes("vacation.md"), "text/markdown")},
            ).json()
            wait_until(
                lambda: (
                    httpx.get(f"{root}/{doc['id']}", headers=headers).json()["state"]
                    in ("ready", "failed")
                ),
                timeout=60,
            )
            assert httpx.get(f"{root}/{doc['id']}", headers=headers).json()["state"] == "ready"

            sdk = client(inference, create_key(env))
            reply = sdk.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "How many vacation days do I get?"}],
                extra_body={"inferia": {"knowledge_bases": ["handbook"]}},
            )
            citations = (reply.model_extra or {})["inferia"]["citations"]
            assert citations[0]["document_id"] == doc["id"]
            system = fake.requests()[-1]["body"]["messages"][0]
            assert system["role"] == "system" and "27 days of paid vacation" in system["content"]
    finally:
        fake.stop()
