"""Which area a report measures: its province (GSO code), the country, or a sub-area."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

from chiso_ingest.extraction.lexicon import Lexicon
from chiso_shared.catalogue import areas

_VOWELS = "aăâeêioôơuưy"
# "Hà Nội, ngày 05 tháng 11", "Hà Nội, 08/5/2024": where a text was signed or filed (its
# dateline), not what it measures
_PLACE_OF_ISSUE = re.compile(r"\s*,\s*(?:(?:ngày|[Nn]gày)\b|\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})")


def _base(char: str) -> str:
    marks = unicodedata.normalize("NFD", char)
    return "".join(c for c in marks if not unicodedata.combining(c))


@cache
def _variants() -> dict[str, str]:
    """Each letter -> a character class of the same letter with any diacritics."""
    groups: dict[str, set[str]] = {}
    for code in range(0x41, 0x1F00):
        char = chr(code)
        if not char.isalpha():
            continue
        base = "d" if char.lower() == "đ" else _base(char).lower()
        if len(base) == 1 and (base in _VOWELS or base == "d"):
            key = base.upper() if char.isupper() else base
            groups.setdefault(key, set()).add(char)
    return {k: "[" + "".join(sorted(v)) + "]" for k, v in groups.items()}


def _rest_pattern(name: str) -> str:
    """A name after its first letter, written with or without diacritics (the first letter
    stays literal, for speed: see `_alternation`)."""
    variants = _variants()
    out: list[str] = []
    for char in name[1:]:
        if char.isspace():
            out.append(r"\s+")
            continue
        base = "d" if char.lower() == "đ" else _base(char)
        key = base.upper() if char.isupper() else base.lower()
        out.append(variants.get(key, re.escape(char)))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _AreaIndex:
    pattern: re.Pattern[str]
    code_of: dict[str, str]


def _fold(name: str) -> str:
    return " ".join(_base(name.replace("đ", "d").replace("Đ", "D")).lower().split())


@cache
def _index(code_list: str = "2004") -> _AreaIndex:
    """Province names of one code list: the 2004 list (63) or, for reports after the 2025
    merger, the 2025 list (34), where a name may stand for another code ("Bắc Ninh" is VN-27
    before 2025-07-01 and VN-24 after). Facts carry the extraction contract's `scope` form."""
    code_of: dict[str, str] = {}
    forms: set[str] = set()
    for area in areas():
        if area.level != "province" or area.code_list not in ("", code_list):
            continue
        for name in (area.name_vi, area.name_en, *area.aliases):
            if len(name) < 4:
                continue
            code_of.setdefault(_fold(name), area.scope)
            # a first letter without its mark too ("Da Nang" for "Đà Nẵng"), and capitals
            for form in (name, _base(name[0]).replace("Đ", "D") + name[1:], name.upper()):
                forms.add(form)
    body = _alternation(sorted(forms, key=len, reverse=True))
    return _AreaIndex(re.compile(rf"(?:{body})(?!\w)"), code_of)


def _alternation(names: list[str]) -> str:
    """The names, longest first, as one alternation grouped by their literal first letter:
    `H(?:à Nội|ải Phòng)|Đ(?:à Nẵng)`. Names with different first letters never match at
    one position, so at each position the same name matches first as in the flat list, but
    the engine tries one group instead of all ~350 names at every capital letter."""
    rests: dict[str, list[str]] = {}
    for name in names:
        rests.setdefault(name[0], []).append(_rest_pattern(name))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(r)})" for first, r in rests.items())


def area_code(place: str, code_list: str = "2004") -> str | None:
    """The province a "thành phố Đà Nẵng"-style mention names, if it names one: only a
    province's own name with its place word ("Thành phố Cần Thơ", "TP. Hà Nội"); a district,
    town or provincial city named like its province ("huyện Điện Biên", "thành phố Sơn La")
    names none."""
    return _index(code_list).code_of.get(_fold(place.replace(".", " ")))


def place_of_issue(text: str, end: int) -> bool:
    """The place name ending at `end` is a dateline ("Hà Nội, ngày 15/3/2024")."""
    return _PLACE_OF_ISSUE.match(text, end) is not None


@lru_cache(maxsize=2)
def province_names(text: str, code_list: str = "2004") -> tuple[tuple[int, int, str], ...]:
    """Every province named in the text as (start, end, code), in order. Kept for the last
    texts: the report's scope and then its figures' scopes read the same names."""
    index = _index(code_list)
    out: list[tuple[int, int, str]] = []
    for m in index.pattern.finditer(text):
        if m.start() and text[m.start() - 1].isalnum():
            continue
        code = index.code_of.get(_fold(m.group()))
        if code:
            out.append((m.start(), m.end(), code))
    return tuple(out)


def document_scope(
    text: str, low: str, lex: Lexicon, hint: str | None, code_list: str = "2004"
) -> str | None:
    """The province a report is about, `VN` for a national report, else the hint; None
    (unknown) for a report that says it is a province's but names none and has no hint.
    """
    return document_area(text, low, lex, hint, code_list)[0]


def document_area(
    text: str, low: str, lex: Lexicon, hint: str | None, code_list: str = "2004"
) -> tuple[str | None, bool]:
    """`document_scope`, and whether the text left it unsettled: the hint, or a default
    where no hint was given."""
    if lex.pattern("scope.national_issuer").search(
        low, 0, lex.integer("scope.national_issuer_window")
    ):
        return "VN", False
    counts = _province_counts(text, code_list, lex.integer("scope.title_window"))
    national = len(lex.pattern("scope.national").findall(low))
    top = counts.most_common(1)[0] if counts else None
    if top and top[1] > national:
        return top[0], False
    provincial = len(lex.pattern("scope.province_markers").findall(low))
    if top is None:
        return _unnamed_scope(hint, national, provincial)
    if provincial > national:
        return top[0], False
    if hint:
        return hint, True
    return ("VN", False) if national else (None, False)


def _unnamed_scope(hint: str | None, national: int, provincial: int) -> tuple[str | None, bool]:
    """A text naming no province: a province's (the hint, else unknown) when it speaks of
    "the province" at least as often as of the country; national otherwise, since national
    news need not say "cả nước"; but a hint wins over a text that says neither."""
    if provincial and provincial >= national:
        return hint, True
    if national:
        return "VN", False
    return hint or "VN", True


def _province_counts(text: str, code_list: str, title_window: int) -> Counter[str]:
    """How often each province is named, places of issue ("Hà Nội, ngày ...") aside; a
    name in the title counts twice ("Báo cáo ... tỉnh Nghệ An năm 2024")."""
    return Counter(
        code
        for start, end, code in province_names(text, code_list)
        if not place_of_issue(text, end)
        for _ in range(2 if start < title_window else 1)
    )
