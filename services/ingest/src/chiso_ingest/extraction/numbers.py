"""Reading a written number: Vietnamese and English separators in one report."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d+")


def _grouped(parts: list[str]) -> bool:
    return all(len(p) == 3 for p in parts[1:]) and 1 <= len(parts[0]) <= 3


def parse_number(text: str, *, scale_follows: bool = False) -> float | None:
    """The value of `text` (digits with `.`/`,` marks), or None when it is no number.

    Both marks: the last one is the decimal. One mark repeated: grouping. One mark with
    other than three digits after it: decimal. Exactly three digits after a single mark are
    grouping, except `,ddd` before a scale word (`2,235 tỷ`).
    """
    dots, commas = text.count("."), text.count(",")
    if not dots and not commas:
        return float(text) if _DIGITS.fullmatch(text) else None
    if dots and commas:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, frac = text.rpartition(decimal)
        if decimal in whole or not _grouped(whole.split(group)):
            return None
        return float(whole.replace(group, "") + "." + frac)
    mark = "." if dots else ","
    parts = text.split(mark)
    if len(parts) > 2:
        return float("".join(parts)) if _grouped(parts) else None
    whole, frac = parts
    if len(frac) != 3 or whole == "0" or (mark == "," and scale_follows):
        return float(f"{whole}.{frac}")
    return float(whole + frac)


def reread_as_decimal(text: str) -> float | None:
    """`38.050` read the other way, for when grouping gives an implausible value."""
    if text.count(".") + text.count(",") != 1:
        return None
    return float(text.replace(",", "."))
