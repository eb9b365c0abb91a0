"""Plain-text decoding for callers outside the upload path (`chiso extract`).

The readers live in `chiso_ingest.formats`; this module keeps the older names.
"""

from __future__ import annotations

from chiso_ingest.formats import media_type_of
from chiso_ingest.formats.base import normalise
from chiso_ingest.formats.text_reader import decode

__all__ = ["decode_text", "media_type_of", "normalise"]


def decode_text(content: bytes) -> str:
    """UTF-8, UTF-16 or a detected Vietnamese legacy encoding; anything else is refused."""
    return decode(content)[0]
