"""Uploaded files to plain text: text, Markdown, HTML and PDF (pypdf).

``kind_of`` decides at upload time (an unsupported type is refused with 415 before
anything is stored); ``extract_text`` runs during ingestion and raises ``ParseError``
with a reason the document's ``failed`` state shows.
"""

from __future__ import annotations

import io
import logging
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Literal

DocumentKind = Literal["text", "markdown", "html", "pdf"]

_BY_SUFFIX: dict[str, DocumentKind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
_BY_TYPE: dict[str, DocumentKind] = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/pdf": "pdf",
}
SUPPORTED = "text (.txt), Markdown (.md), HTML (.html) and PDF (.pdf)"


class ParseError(Exception):
    """A document whose text cannot be extracted; the message is the failure reason."""


def kind_of(filename: str, content_type: str) -> DocumentKind | None:
    """The kind by the file's suffix, else its declared content type; None: unsupported."""
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    return _BY_TYPE.get(content_type.split(";", 1)[0].strip().lower())


def extract_text(kind: DocumentKind, data: bytes, max_chars: int) -> str:
    if kind == "pdf":
        text = _pdf_text(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ParseError("the file is not UTF-8 text") from None
        if kind == "html":
            text = _html_text(text)
    text = text.strip()
    if not text:
        raise ParseError("the document has no text")
    if len(text) > max_chars:
        raise ParseError(f"the document's text is longer than {max_chars} characters")
    return text


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf logs every oddity of a damaged file; the failed state carries the reason.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseError("the PDF is encrypted")
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except ParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ParseError(f"the PDF cannot be read ({type(exc).__name__})") from None


class _TextOfHtml(HTMLParser):
    _SKIPPED = frozenset({"script", "style", "head", "template", "noscript"})
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
