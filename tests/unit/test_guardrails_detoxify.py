"""The detoxify plugin: loads a tiny checkpoint generated here (nothing downloaded),
runs off the event loop with a timeout and the policy's fail mode, and a missing file
is a start-up error naming the setting."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.services import require_module

require_module("detoxify")
require_module("inferia_detoxify")
torch: Any = require_module("torch")
transformers: Any = require_module("transformers")

from inferia.config import GuardrailSettings  # noqa: E402
from inferia.core.errors import ConfigError  # noqa: E402
from inferia.guardrails import (  # noqa: E402
    GuardrailBlocked,
    Redactor,
    ScanLimits,
    guard_slots,
    policy_from_builtins,
    request_slots,
)
from inferia.guardrails.setup import build_engine, platform_policy  # noqa: E402

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "nice", "bad", "hello"]


def make_checkpoint(folder: Path, *, toxic: bool) -> Path:
    """A 2-layer, 32-wide BERT in detoxify's checkpoint format. The classifier bias
    fixes the verdict (toxicity ~1.0 or ~0.0) so tests do not depend on weights."""
    model_dir = folder / "tiny-bert"
    model_dir.mkdir(parents=True)
    (model_dir / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=len(CLASSES),
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.fill_(-12.0)
        if toxic:
            model.classifier.bias[0] = 12.0
    # Like a stock config.json from the hub: no label count (the checkpoint has 6).
    transformers.BertConfig(**{**config.to_dict(), "num_labels": 2}).save_pretrained(model_dir)
    transformers.BertTokenizer(str(model_dir / "vocab.txt")).save_pretrained(model_dir)
    checkpoint = folder / "tiny.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": str(model_dir),
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    return checkpoint


def settings(**detoxify: Any) -> GuardrailSettings:
    return msgspec.convert({"input": [], "output": [], "detoxify": detoxify}, GuardrailSettings)


def policy(**entry: Any) -> Any:
    return policy_from_builtins({"input": [{"scanner": "detoxify", **entry}]})


@pytest.fixture(scope="module")
def toxic_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("toxic"), toxic=True)


async def scan(compiled: Any, text: str) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    body = {"messages": [{"role": "user", "content": text}]}
    await guard_slots(
        compiled.input,
        request_slots("chat.completions", body),
        Redactor(),
        direction="input",
        limits=ScanLimits(),
        record=lambda f, d, w: records.append(f.record(d, w)),
    )
    return records


async def test_generated_checkpoint_loads_and_blocks(toxic_checkpoint: Path) -> None:
    engine = build_engine(settings(checkpoint=str(toxic_checkpoint)))
    compiled = engine.compile(policy(action="block", threshold=0.9, categories=["toxicity"]))
    try:
        with pytest.raises(GuardrailBlocked, match="toxicity"):
            await scan(compiled, "you are bad")
        assert torch.get_num_threads() == 1
    finally:
        await engine.close()


async def test_clean_verdict_lets_text_through(tmp_path: Path) -> None:
    engine = build_engine(settings(checkpoint=str(make_checkpoint(tmp_path, toxic=False))))
    try:
        assert await scan(engine.compile(policy(action="block")), "hello you are nice") == []
    finally:
        await engine.close()


async def test_timeout_follows_the_fail_mode(toxic_checkpoint: Path) -> None:
    # One worker and eight texts at once: all but the first wait in the pool's queue,
    # far longer than the 1 µs timeout, whatever the machine's load.
    engine = build_engine(settings(checkpoint=str(toxic_checkpoint), timeout_s=1e-6))
    texts = ["you are bad " * 20] * 8
    try:
        opened = engine.compile(policy(action="flag", fail_mode="open"))
        results = await asyncio.gather(*(scan(opened, t) for t in texts))
        records = [(r["category"], r["action"]) for rs in results for r in rs]
        # Unanswered texts went through, recorded as "unavailable" (flag).
        assert records.count(("unavailable", "flag")) >= len(texts) - 1
        closed = engine.compile(policy(action="block", fail_mode="closed"))
        outcomes = await asyncio.gather(*(scan(closed, t) for t in texts), return_exceptions=True)
        blocked = [o for o in outcomes if isinstance(o, GuardrailBlocked)]
        assert sum("unavailable" in b.message for b in blocked) >= len(texts) - 1
    finally:
        await engine.close()


async def test_queue_is_bounded(toxic_checkpoint: Path) -> None:
    engine = build_engine(settings(checkpoint=str(toxic_checkpoint), max_queue=1, timeout_s=30))
    compiled = engine.compile(policy(action="flag", fail_mode="open"))
    try:
        results = await asyncio.gather(*(scan(compiled, "you are bad " * 20) for _ in range(16)))
        categories = sorted(str(r["category"]) for rs in results for r in rs)
        assert "unavailable" in categories and "toxicity" in categories
    finally:
        await engine.close()


async def test_checkpoint_naming_a_hub_model_loads_from_the_configured_folder(
    tmp_path: Path,
) -> None:
    """Real checkpoints name "bert-base-uncased": the folder setting replaces the hub."""
    checkpoint = make_checkpoint(tmp_path, toxic=True)
    loaded = torch.load(checkpoint, weights_only=False)
    folder = loaded["config"]["arch"]["args"]["model_type"]
    loaded["config"]["arch"]["args"]["model_type"] = "bert-base-uncased"
    torch.save(loaded, checkpoint)
    with pytest.raises(ConfigError, match="huggingface_config_path"):
        build_engine(settings(checkpoint=str(checkpoint))).compile(policy())
    engine = build_engine(settings(checkpoint=str(checkpoint), huggingface_config_path=folder))
    try:
        records = await scan(engine.compile(policy(action="flag")), "you are bad")
        assert [r["category"] for r in records] == ["toxicity"]
    finally:
        await engine.close()


def test_missing_checkpoint_file_is_a_start_up_error_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ckpt"
    config = msgspec.convert(
        {
            "input": [{"scanner": "detoxify", "action": "block"}],
            "output": [],
            "detoxify": {"checkpoint": str(missing)},
        },
        GuardrailSettings,
    )
    with pytest.raises(
        ConfigError, match=r"guardrails\.detoxify\.checkpoint: file not found: .*nope\.ckpt"
    ):
        platform_policy(config, build_engine(config))


def test_unset_checkpoint_says_nothing_is_downloaded() -> None:
    config = msgspec.convert({"input": [{"scanner": "detoxify"}], "output": []}, GuardrailSettings)
    with pytest.raises(
        ConfigError, match=r"guardrails\.detoxify\.checkpoint is not set.*nothing is downloaded"
    ):
        platform_policy(config, build_engine(config))


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ckpt"
    torch.save({"weights": []}, bogus)
    engine = build_engine(settings(checkpoint=str(bogus)))
    with pytest.raises(ConfigError, match="not a detoxify checkpoint"):
        engine.compile(policy())
