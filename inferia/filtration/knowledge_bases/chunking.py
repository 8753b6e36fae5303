"""Text to overlapping chunks of at most ``chunk_tokens`` tokens (tiktoken, cl100k_base).

Windows of ``chunk_tokens`` tokens start every ``chunk_tokens - overlap`` tokens, so a
passage cut at one chunk's end is whole in the next. Token counts are what embedding
models limit; characters are not.
"""

from __future__ import annotations

import tiktoken

ENCODING = "cl100k_base"


def chunk_text(text: str, chunk_tokens: int, overlap: int) -> list[str]:
    encoding = tiktoken.get_encoding(ENCODING)
    tokens = encoding.encode(text, disallowed_special=())
    step = max(1, chunk_tokens - overlap)
    chunks: list[str] = []
    for start in range(0, len(tokens), step):
        piece = encoding.decode(tokens[start : start + chunk_tokens]).strip()
        if piece:
            chunks.append(piece)
        if start + chunk_tokens >= len(tokens):
            break
    return chunks
