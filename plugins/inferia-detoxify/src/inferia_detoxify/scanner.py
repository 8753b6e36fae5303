"""Toxicity scoring with a detoxify checkpoint, off the event loop.

The model runs in a small thread pool (torch releases the GIL while it computes),
pinned to one intra-op thread: on a 2-core machine two threads per inference were
slower than one. Work is bounded: at most ``max_queue`` texts wait or run at once,
each gets ``timeout_s``; past either, ``ScannerUnavailable`` is raised and the policy
entry's ``fail_mode`` decides (open: let the text through, recorded; closed: refuse).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from inferia.core.errors import ConfigError
from inferia.guardrails import Detection, ScannerSetup, ScannerUnavailable

SETTING = "guardrails.detoxify.checkpoint"
DEFAULT_MIN_SCORE = 0.5


class DetoxifySetupError(ConfigError):
    """The checkpoint or its configuration cannot be loaded; names the setting."""


class DetoxifyScanner:
    name = "detoxify"

    def __init__(
        self,
        checkpoint: Path,
        huggingface_config_path: Path | None,
        *,
        workers: int = 1,
        max_queue: int = 64,
        timeout_s: float = 2.0,
        max_chars: int = 4000,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        self._model, self._tokenizer, self._classes = _load(checkpoint, huggingface_config_path)
        self.categories = frozenset(self._classes)
        self._timeout_s = timeout_s
        self._max_chars = max_chars
        self._min_score = min_score
        self._slots = threading.BoundedSemaphore(max_queue)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detoxify")

    def predict(self, text: str) -> dict[str, float]:
        """Scores per class, computed on the calling thread."""
        import torch

        with torch.inference_mode():
            inputs = self._tokenizer(
                text[: self._max_chars], return_tensors="pt", truncation=True, max_length=512
            )
            logits = self._model(**inputs)[0]
            scores = torch.sigmoid(logits)[0].tolist()
        return dict(zip(self._classes, (float(s) for s in scores), strict=True))

    async def scan_async(self, text: str) -> list[Detection]:
        if not text.strip():
            return []
        if not self._slots.acquire(blocking=False):
            raise ScannerUnavailable("detoxify: too many texts waiting")
        try:
            future = self._pool.submit(self.predict, text)
        except RuntimeError:  # the pool is shut down
            self._slots.release()
            raise ScannerUnavailable("detoxify: stopped") from None
        # The slot is freed when the work really ends, not when the caller stops waiting:
        # timed-out work still occupies the pool, and the bound must count it.
        future.add_done_callback(lambda _: self._slots.release())
        try:
            scores = await asyncio.wait_for(asyncio.wrap_future(future), self._timeout_s)
        except TimeoutError:
            raise ScannerUnavailable(f"detoxify: no answer within {self._timeout_s} s") from None
        except Exception as exc:
            raise ScannerUnavailable(f"detoxify failed: {type(exc).__name__}") from None
        return [
            Detection(category, 0, len(text), score)
            for category, score in scores.items()
            if score >= self._min_score
        ]

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _load(checkpoint: Path, config_dir: Path | None) -> tuple[Any, Any, list[str]]:
    """detoxify's own loader, made offline: the transformer's config and tokenizer come
    from ``config_dir`` (or a local folder named by the checkpoint), never the hub."""
    import torch
    from detoxify.detoxify import get_model_and_tokenizer

    torch.set_num_threads(1)
    try:
        loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise DetoxifySetupError(
            f"{SETTING}: cannot load {checkpoint}: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(loaded, dict) or "config" not in loaded or "state_dict" not in loaded:
        raise DetoxifySetupError(f"{SETTING}: {checkpoint} is not a detoxify checkpoint")
    arch = dict(loaded["config"]["arch"]["args"])
    if config_dir is not None:
        arch["model_type"] = str(config_dir)
    elif not Path(arch["model_type"]).is_dir():
        raise DetoxifySetupError(
            f"guardrails.detoxify.huggingface_config_path: the checkpoint names "
            f"'{arch['model_type']}', which is not a local folder; set this to a folder with "
            "that model's config.json and tokenizer files (nothing is downloaded)"
        )
    change = {
        "toxic": "toxicity",
        "identity_hate": "identity_attack",
        "severe_toxic": "severe_toxicity",
    }
    classes = [change.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
    try:
        # The folder stands in for the hub name. detoxify's own huggingface_config_path
        # would read the model config from the folder as is, and a stock config.json
        # (num_labels 2) does not fit the checkpoint's head; this way num_labels comes from
        # the checkpoint, and a local folder never touches the network.
        model, tokenizer = get_model_and_tokenizer(**arch, state_dict=loaded["state_dict"])
    except (OSError, ValueError) as exc:
        raise DetoxifySetupError(
            f"guardrails.detoxify.huggingface_config_path: cannot build the model offline: {exc}"
        ) from None
    model.eval()
    return model, tokenizer, classes


def create(setup: ScannerSetup) -> DetoxifyScanner:
    settings: Mapping[str, Any] = setup.settings
    checkpoint = str(settings.get("checkpoint") or "")
    if not checkpoint:
        raise DetoxifySetupError(
            f"{SETTING} is not set: the detoxify scanner needs a local checkpoint file "
            "(see docs/guardrails.md); nothing is downloaded"
        )
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise DetoxifySetupError(f"{SETTING}: file not found: {path}")
    config_dir = settings.get("huggingface_config_path") or None
    if config_dir is not None and not Path(config_dir).is_dir():
        raise DetoxifySetupError(
            f"guardrails.detoxify.huggingface_config_path: folder not found: {config_dir}"
        )
    return DetoxifyScanner(
        path,
        Path(config_dir) if config_dir else None,
        workers=int(settings.get("workers", 1)),
        max_queue=int(settings.get("max_queue", 64)),
        timeout_s=float(settings.get("timeout_s", 2.0)),
        max_chars=int(settings.get("max_chars", 4000)),
        min_score=float(setup.options.get("min_score", DEFAULT_MIN_SCORE)),
    )
