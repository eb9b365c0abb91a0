"""What every reader returns, the limits it obeys, and the text normalisation offsets refer to."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from chiso_shared.errors import PayloadTooLarge, Unprocessable


@dataclass(frozen=True)
class Limits:
    max_chars: int = 2_000_000
    max_pages: int = 500
    max_zip_entries: int = 1000
    max_unzipped_bytes: int = 50 * 1024 * 1024
    max_zip_ratio: float = 100.0


@dataclass(frozen=True)
class Region:
    """Where a stretch of the normalised text came from: a table cell or a PDF page."""

    start: int
    end: int
    kind: str
    page: int | None = None
    table: int | None = None
    row: int | None = None
    cell: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True)
class Parsed:
    text: str
    encoding: str | None = None
    regions: tuple[Region, ...] = field(default_factory=tuple)


def normalise(text: str) -> str:
    """NFC, Unix newlines, no NUL: offsets of facts refer to exactly this text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return unicodedata.normalize("NFC", text)


class TextBuilder:
    """Joins normalised pieces and records the region each piece came from."""

    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.regions: list[Region] = []
        self.max_chars = max_chars

    def add(self, piece: str, region: dict[str, Any] | None = None) -> None:
        piece = normalise(piece)
        if region is not None and piece:
            self.regions.append(Region(self.length, self.length + len(piece), **region))
        self.parts.append(piece)
        self.length += len(piece)
        if self.length > self.max_chars:
            raise too_many_chars(self.length, self.max_chars)

    def build(self, encoding: str | None = None) -> Parsed:
        return Parsed("".join(self.parts), encoding, tuple(self.regions))


def too_many_chars(count: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The document has more than {limit} characters of text ({count} so far); "
        f"the limit is {limit}.",
        code="ingest.too_many_chars",
    )


def unreadable(kind: str, detail: str) -> Unprocessable:
    return Unprocessable(
        f"The file is not a readable {kind}: {detail}", code=f"ingest.bad_{kind.lower()}"
    )
