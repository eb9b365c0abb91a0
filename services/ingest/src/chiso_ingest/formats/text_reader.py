"""Plain text: UTF-8 and UTF-16 (with or without BOM), else a Vietnamese legacy encoding."""

from __future__ import annotations

import codecs
import re

from chiso_ingest.formats import legacy
from chiso_ingest.formats.base import Limits, Parsed, normalise
from chiso_shared.errors import Unprocessable

CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with; undecodable bytes are refused."""
    for bom, encoding in BOMS:
        if content.startswith(bom):
            return _strict(content, encoding), encoding
    if len(content) >= 4 and content[1::2].count(0) > len(content) // 4:
        return _strict(content, "utf-16-le"), "utf-16-le"
    if len(content) >= 4 and content[0::2].count(0) > len(content) // 4:
        return _strict(content, "utf-16-be"), "utf-16-be"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        found = legacy.guess(content)
        if found is None:
            raise Unprocessable(
                f"The text is not valid UTF-8 (byte {exc.start}) or UTF-16, and does not read "
                "as Vietnamese in Windows-1258, TCVN3 (ABC) or VNI-Windows; convert it to "
                "UTF-8 and send it again.",
                code="ingest.unknown_encoding",
            ) from exc
        return found.text, found.encoding


def _strict(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Unprocessable(
            f"The text is not valid {encoding.upper()} (byte {exc.start}); send UTF-8 or UTF-16.",
            code="ingest.bad_encoding",
        ) from exc


def read_text(content: bytes, _limits: Limits) -> Parsed:
    text, encoding = decode(content)
    refuse_binary(text)
    return Parsed(normalise(text), encoding)


def refuse_binary(text: str) -> None:
    """Control characters in more than 1% of the text mean a binary file sent as text."""
    controls = len(CONTROLS.findall(text))
    if controls > max(1, len(text) // 100):
        raise Unprocessable(
            f"The file looks binary ({controls} control characters), not text.",
            code="ingest.binary_content",
        )
