"""Vietnamese legacy encodings: Windows-1258, TCVN3 (ABC) and VNI-Windows.

TCVN3 and VNI have no Python codec; their tables are data files in `data/`. A document whose
bytes are not UTF-8 is decoded with each candidate, and the candidate that yields the most
common Vietnamese words wins; if none yields any, the caller refuses the document.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

MARKS = {
    "acute": "\u0301",
    "grave": "\u0300",
    "hook": "\u0309",
    "tilde": "\u0303",
    "dot": "\u0323",
    "circumflex": "\u0302",
    "breve": "\u0306",
}
VNI_BASES = "aeiouyAEIOUYơƠưƯ"
WORD = re.compile(r"\w+")


def _rows(name: str) -> list[list[str]]:
    text = (
        resources.files("chiso_ingest.formats").joinpath("data").joinpath(name).read_text("utf-8")
    )
    return [
        line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


@cache
def tcvn3_table() -> dict[int, str]:
    """latin-1 code point → Unicode letter, for str.translate."""
    return {int(byte, 16): letter for byte, letter in _rows("tcvn3.tsv")}


@cache
def _vni_tables() -> tuple[dict[int, str], re.Pattern[str], dict[str, str]]:
    letters = {ord(vni): letter for vni, letter in _rows("vni_letters.tsv")}
    marks = {
        vni: "".join(MARKS[name] for name in names.split()) for vni, names in _rows("vni_marks.tsv")
    }
    alternatives = "|".join(re.escape(mark) for mark in sorted(marks, key=len, reverse=True))
    return letters, re.compile(f"([{VNI_BASES}])({alternatives})"), marks


@cache
def common_words() -> frozenset[str]:
    return frozenset(row[0] for row in _rows("vietnamese_words.txt"))


def from_tcvn3(text: str) -> str:
    """Text whose characters are TCVN3 bytes read as latin-1 (as in a `.VnTime` DOCX run)."""
    return unicodedata.normalize("NFC", text.translate(tcvn3_table()))


def from_vni(text: str) -> str:
    """Text whose characters are VNI-Windows bytes read as Windows-1252."""
    letters, pattern, marks = _vni_tables()
    text = text.translate(letters)
    combined = pattern.sub(lambda m: m.group(1) + marks[m.group(2)], text)
    return unicodedata.normalize("NFC", combined)


def _cp1258(content: bytes) -> str:
    return unicodedata.normalize("NFC", content.decode("cp1258", errors="strict"))


def _tcvn3(content: bytes) -> str:
    return from_tcvn3(content.decode("latin-1"))


def _vni(content: bytes) -> str:
    return from_vni(content.decode("cp1252", errors="replace"))


CANDIDATES: dict[str, Callable[[bytes], str]] = {
    "windows-1258": _cp1258,
    "tcvn3": _tcvn3,
    "vni-windows": _vni,
}


def vietnamese_score(text: str) -> int:
    """How many words of `text` are common Vietnamese words written with diacritics."""
    words = common_words()
    return sum(1 for word in WORD.findall(text.lower()) if not word.isascii() and word in words)


@dataclass(frozen=True)
class Guess:
    encoding: str
    text: str
    score: int


def guess(content: bytes) -> Guess | None:
    """The legacy decoding that reads most like Vietnamese, or None if none does."""
    best: Guess | None = None
    for name, decode in CANDIDATES.items():
        try:
            text = decode(content)
        except UnicodeDecodeError:
            continue
        score = vietnamese_score(text)
        if score and (best is None or score > best.score):
            best = Guess(name, text, score)
    return best


def legacy_font(font_names: set[str]) -> Callable[[str], str] | None:
    """The converter for a DOCX whose runs use TCVN3 (`.Vn*`) or VNI (`VNI-*`) fonts."""
    if any(name.startswith(".Vn") for name in font_names):
        return from_tcvn3
    if any(name.upper().startswith("VNI") for name in font_names):
        return from_vni
    return None
