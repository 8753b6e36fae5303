"""Reading a deployment's log files (one per replica): the last lines, then new ones."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

_POLL_S = 0.25


async def read_logs(folder: Path, *, tail: int, follow: bool) -> AsyncIterator[str]:
    """Each line prefixed with its replica's short id. ``tail`` counts per replica."""
    handles: dict[Path, BinaryIO] = {}
    try:
        for path in _files(folder):
            handle = handles[path] = path.open("rb")
            for line in deque(handle, maxlen=max(tail, 0)):
                yield _line(path, line)
        while follow:
            for path in _files(folder):
                if path not in handles:  # a replica started since
                    handles[path] = path.open("rb")
            wrote = False
            for path, handle in handles.items():
                for line in handle.readlines():
                    wrote = True
                    yield _line(path, line)
            if not wrote:
                await asyncio.sleep(_POLL_S)
    finally:
        for handle in handles.values():
            handle.close()


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []


def _line(path: Path, raw: bytes) -> str:
    text = raw.decode(errors="replace").rstrip("\n")
    return f"[{path.stem[:8]}] {text}\n"
