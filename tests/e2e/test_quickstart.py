"""README.md's first screen, as pasted on a fresh machine: ``inferia serve --demo``,
``inferia keys create``, a chat through the built-in echo model with the openai SDK."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from tests.processes import InferiaServer, inferia_env, run_cli

pytestmark = pytest.mark.e2e


def test_first_chat_with_the_demo_model_needs_nothing_else(tmp_path: Path) -> None:
    env = inferia_env(tmp_path)
    with InferiaServer(env, ["--demo"]) as server:
        assert 'demo mode: model "demo-echo"' in server.output
        created = run_cli(["keys", "create", "--name", "my-app"], env)
        assert created.returncode == 0, created.stderr
        client = openai.OpenAI(
            base_url=f"{server.base_url}/v1", api_key=created.stdout.strip(), max_retries=0
        )
        assert [m.id for m in client.models.list()] == ["demo-echo"]
        reply = client.chat.completions.create(
            model="demo-echo", messages=[{"role": "user", "content": "Hi"}]
        )
        assert reply.choices[0].message.content == "[demo echo] Hi"
        assert reply.usage is not None and reply.usage.total_tokens > 0
        streamed = client.chat.completions.create(
            model="demo-echo",
            messages=[{"role": "user", "content": "say it slowly"}],
            stream=True,
        )
        text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        assert text == "[demo echo] say it slowly"
        legacy = client.completions.create(model="demo-echo", prompt="old style")
        assert legacy.choices[0].text == "[demo echo] old style"


def test_without_demo_there_is_no_echo_model(tmp_path: Path) -> None:
    env = inferia_env(tmp_path)
    with InferiaServer(env) as server:
        created = run_cli(["keys", "create", "--name", "my-app"], env)
        client = openai.OpenAI(
            base_url=f"{server.base_url}/v1", api_key=created.stdout.strip(), max_retries=0
        )
        assert [m.id for m in client.models.list()] == []
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(
                model="demo-echo", messages=[{"role": "user", "content": "Hi"}]
            )
