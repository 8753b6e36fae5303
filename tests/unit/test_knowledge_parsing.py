"""Text extraction and token chunking of knowledge-base documents."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import tiktoken

from inferia.core.tiktoken_files import install_encodings
from inferia.filtration.knowledge_bases.chunking import ENCODING, chunk_text
from inferia.filtration.knowledge_bases.parsing import ParseError, extract_text, kind_of
from tests.knowledge_support import encrypted_pdf, pdf_with_text


@pytest.fixture(autouse=True)
def _encodings(tmp_path: Path) -> None:
    install_encodings(tmp_path / "tiktoken")


def test_chunks_overlap_and_cover_the_text() -> None:
    encoding = tiktoken.get_encoding(ENCODING)
    text = " ".join(f"word{i}" for i in range(500))
    chunks = chunk_text(text, 50, 10)
    assert all(len(encoding.encode(chunk)) <= 50 for chunk in chunks)
    # Consecutive chunks share their 10 boundary tokens.
    for before, after in itertools.pairwise(chunks):
        shared = encoding.decode(encoding.encode(before)[-10:]).strip()
        assert after.startswith(shared)
    assert "word0" in chunks[0] and "word499" in chunks[-1]
    assert chunk_text("short", 50, 10) == ["short"]


@pytest.mark.parametrize(
    ("name", "content_type", "kind"),
    [
        ("a.md", "", "markdown"),
        ("a.HTML", "application/octet-stream", "html"),
        ("notes", "text/plain; charset=utf-8", "text"),
        ("report.pdf", "", "pdf"),
        ("sheet.xlsx", "application/vnd.ms-excel", None),
    ],
)
def test_kind_by_suffix_then_content_type(name: str, content_type: str, kind: str | None) -> None:
    assert kind_of(name, content_type) == kind


def test_html_keeps_text_and_drops_scripts() -> None:
    html = b"<html><head><title>T</title><style>x{}</style></head><body><h1>Rules</h1>"
    html += b"<p>One &amp; two.</p><script>alert(1)</script><ul><li>three</li></ul></body></html>"
    assert extract_text("html", html, 1000) == "Rules\nOne & two.\nthree"


def test_pdf_text_and_its_failures() -> None:
    assert extract_text("pdf", pdf_with_text("Hello PDF"), 1000) == "Hello PDF"
    with pytest.raises(ParseError, match="encrypted"):
        extract_text("pdf", encrypted_pdf(), 1000)
    with pytest.raises(ParseError, match="cannot be read"):
        extract_text("pdf", b"%PDF-1.4 garbage", 1000)
    with pytest.raises(ParseError, match="no text"):
        extract_text("text", b"  \n\t ", 1000)
    with pytest.raises(ParseError, match="longer than 5"):
        extract_text("text", b"123456", 5)
