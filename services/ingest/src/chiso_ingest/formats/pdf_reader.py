"""PDF: the text layer of each page (pypdf). Scanned, image-only PDFs are refused: no OCR."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

from chiso_ingest.formats.base import Limits, Parsed, TextBuilder, unreadable
from chiso_shared.errors import PayloadTooLarge, Unprocessable

PAGE_BREAK = "\n\n"


def _encrypted() -> Unprocessable:
    return Unprocessable(
        "The PDF is encrypted with a password; send it without protection.",
        code="ingest.encrypted_pdf",
    )


def _open(content: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise _encrypted()
            except (DependencyError, FileNotDecryptedError, NotImplementedError) as exc:
                raise _encrypted() from exc
        return reader
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unreadable("PDF", f"{type(exc).__name__}: {exc}") from exc


def read_pdf(content: bytes, limits: Limits) -> Parsed:
    reader = _open(content)
    try:
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unreadable("PDF", f"its page tree is damaged ({type(exc).__name__}).") from exc
    if pages > limits.max_pages:
        raise PayloadTooLarge(
            f"The PDF has {pages} pages; the limit is {limits.max_pages}.",
            code="ingest.too_many_pages",
        )
    builder = TextBuilder(limits.max_chars)
    for number in range(pages):
        try:
            text = reader.pages[number].extract_text() or ""
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise unreadable("PDF", f"page {number + 1} cannot be read ({exc}).") from exc
        if text.strip():
            builder.add(text, {"kind": "page", "page": number + 1})
            builder.add(PAGE_BREAK)
    parsed = builder.build()
    if pages and not parsed.text.strip():
        raise Unprocessable(
            f"The PDF's {pages} page(s) have no text layer (scanned images?); text recognition "
            "is not supported, so send a PDF with text or the original document.",
            code="ingest.image_only_pdf",
        )
    return parsed
