"""Format readers: bytes in, normalised text and a layout map out, or a clear refusal.

Each reader is a pure function `(bytes, Limits) -> Parsed`. `read_document` runs one in a
sandboxed child process under a deadline, so a slow or hostile file costs a 422, never a stuck
or starved server.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from chiso_ingest.formats.base import Limits, Parsed, Region
from chiso_ingest.formats.docx_reader import read_docx
from chiso_ingest.formats.html_reader import read_html
from chiso_ingest.formats.pdf_reader import read_pdf
from chiso_ingest.formats.sandbox import ReaderSandbox, Sandbox, SandboxLimits
from chiso_ingest.formats.text_reader import read_text
from chiso_shared.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

__all__ = [
    "READERS",
    "Limits",
    "Parsed",
    "ReaderSandbox",
    "Region",
    "Sandbox",
    "SandboxLimits",
    "media_type_of",
    "read",
    "read_document",
]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
READERS: dict[str, Callable[[bytes, Limits], Parsed]] = {
    "text/plain": read_text,
    "text/markdown": read_text,
    "text/html": read_html,
    "application/xhtml+xml": read_html,
    DOCX: read_docx,
    "application/pdf": read_pdf,
}
EXTENSIONS = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".docx": DOCX,
    ".pdf": "application/pdf",
}
GENERIC = ("", "application/octet-stream", "binary/octet-stream")


def media_type_of(declared: str | None, filename: str) -> str:
    """The declared media type, or the one the file name implies when none is declared."""
    base = (declared or "").split(";")[0].strip().lower()
    if base not in GENERIC:
        return base
    suffix = "." + filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    return EXTENSIONS.get(suffix, base or "application/octet-stream")


def check_media_type(media_type: str, accepted: Collection[str]) -> None:
    if media_type not in READERS or media_type not in accepted:
        names = ", ".join(sorted(set(READERS) & set(accepted)))
        raise UnsupportedMediaType(
            f"Media type {media_type!r} is not accepted; accepted: {names}.",
            code="ingest.unsupported_media_type",
        )


def read(content: bytes, media_type: str, limits: Limits, accepted: Collection[str]) -> Parsed:
    check_media_type(media_type, accepted)
    if not content.strip():
        raise Unprocessable("The file is empty.", code="ingest.empty")
    parsed = READERS[media_type](content, limits)
    if not parsed.text.strip():
        raise Unprocessable(
            f"No text was found in the {media_type} file (only markup, scripts or blank content?).",
            code="ingest.empty",
        )
    if len(parsed.text) > limits.max_chars:
        raise PayloadTooLarge(
            f"The document has {len(parsed.text)} characters; the limit is {limits.max_chars}.",
            code="ingest.too_many_chars",
        )
    return parsed


async def read_document(
    content: bytes,
    media_type: str,
    limits: Limits,
    accepted: Collection[str],
    *,
    sandbox: ReaderSandbox,
) -> Parsed:
    """`read` in a sandboxed child process; refusals keep their 4xx, an overrun or a crash of
    the parser becomes a 422."""
    check_media_type(media_type, accepted)
    if not content.strip():
        raise Unprocessable("The file is empty.", code="ingest.empty")
    return await sandbox.read(content, media_type, limits, accepted)
