"""A small fixed corpus with known answers, and the files to upload it (text,
Markdown, HTML, PDF), for the knowledge-base tests."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import httpx

from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD

# name -> (content type, text). Each question below is answered by exactly one file.
CORPUS_TEXT: dict[str, str] = {
    "vacation.md": (
        "# Vacation policy\n\nEvery full-time employee receives 27 days of paid vacation "
        "per calendar year. Unused vacation days may be carried over until the end of March "
        "of the following year."
    ),
    "security.html": (
        "<html><head><style>p { color: red }</style></head><body><h1>Security rules</h1>"
        "<p>Passwords must be changed every 90 days and have at least 14 characters.</p>"
        "<p>A lost badge must be reported to the security desk within one hour.</p>"
        "<script>var ignored = 'never indexed';</script></body></html>"
    ),
    "expenses.pdf": (
        "Travel expenses are reimbursed within 14 days once the receipt is uploaded to the "
        "finance portal. Meals while travelling are capped at 60 euros per day."
    ),
    "parking.txt": (
        "The parking garage under building B opens at 6 am and closes at 10 pm. "
        "Bicycles are parked in the courtyard racks."
    ),
}
QUESTIONS: dict[str, str] = {
    "How many days of paid vacation does an employee get each year?": "vacation.md",
    "How often must I change my password?": "security.html",
    "What is the daily limit for meals on a business trip?": "expenses.pdf",
    "What time does the car park close in the evening?": "parking.txt",
}
CONTENT_TYPES = {
    ".md": "text/markdown",
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
}


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica (built by hand: no PDF writer with
    text support is installed)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 10 Tf 40 700 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_text("a secret"))))
    writer.encrypt("owner-password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def file_bytes(name: str) -> bytes:
    text = CORPUS_TEXT[name]
    return pdf_with_text(text) if name.endswith(".pdf") else text.encode()


def content_type(name: str) -> str:
    return CONTENT_TYPES["." + name.rsplit(".", 1)[-1]]


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    base_id: str,
    name: str,
    data: bytes,
    kind: str | None = None,
    title: str | None = None,
) -> httpx.Response:
    form = {"title": title} if title else {}
    return await client.post(
        f"/management/knowledge-bases/{base_id}/documents",
        headers=headers,
        files={"file": (name, data, kind or content_type(name))},
        data=form,
    )


async def wait_done(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    base_id: str,
    doc_id: str,
    timeout_s: float = 90,
) -> dict[str, Any]:
    """The document once ingestion ended (ready or failed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        reply = await client.get(
            f"/management/knowledge-bases/{base_id}/documents/{doc_id}", headers=headers
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        if body["state"] in ("ready", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


def admin_headers(base_url: str) -> dict[str, str]:
    """The bearer header of the first admin of a running server (synchronous)."""
    reply = httpx.post(
        f"{base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert reply.status_code == 200, reply.text
    return {"authorization": f"Bearer {reply.json()['access_token']}"}
