"""How precise a reported figure is, and how a figure is written in a message."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chiso_indicators.quality.rules import RuleBook

__all__ = ["half_unit", "half_unit_bound", "number", "quantity", "rounding_widens"]

_VIETNAMESE = str.maketrans(",.", ".,")


def half_unit(value: float, unit: str, book: RuleBook) -> float:
    """How far the true value may lie from a figure read as rounded: half a unit of its last
    written digit (4.44 → 0.005, 2 980 000 → 5 000). An integer's trailing zeros may be real
    digits as well (a count of 3 000 000), so their rounding is capped at a share of the value;
    values of exact units (ranks) and zero are exact."""
    if unit in book.exact_units or value == 0 or not math.isfinite(value):
        return 0.0
    size = float(abs(value))
    if size.is_integer() and size < 1e15:
        whole = int(size)
        zeros = 0
        while whole % 10 == 0:
            whole //= 10
            zeros += 1
        if zeros == 0:
            return 0.5
        return min(0.5 * 10.0**zeros, max(0.5, book.rounding_max_relative * size))
    text = format(size, ".12g")
    if "e" in text or "." not in text:
        return book.rounding_max_relative * size
    return 0.5 * 10.0 ** -len(text.split(".")[1])


def rounding_widens(book: RuleBook) -> bool:
    """Whether `half_unit` is never negative (its share of a value is not), so that rounding
    only ever widens a tolerance: a check may then pass a figure that is within its slack
    alone without working out the rounding."""
    return book.rounding_max_relative >= 0


def half_unit_bound(value: float, book: RuleBook) -> float:
    """A bound `half_unit` never exceeds, whatever the unit, cheap to work out: half a unit
    when the last digit is a unit or finer (at most 0.5 for a whole number, 0.05 for one with
    decimals), else a capped share of the value; exact values round by 0."""
    return max(0.5, book.rounding_max_relative * abs(value))


def number(value: float, lang: str, decimals: int = 2, signed: bool = False) -> str:
    """`value` with at most `decimals` decimals (more where it would read as zero), grouped
    in thousands: Vietnamese 2.957.000 and 4,44; English 2,957,000 and 4.44."""
    places = decimals
    while places < 8 and value != 0 and round(abs(value), places) == 0:
        places += 1
    text = f"{abs(value):,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.translate(_VIETNAMESE)
    sign = "-" if value < 0 and text.strip("0.,") else ("+" if signed and value > 0 else "")
    return sign + text


def quantity(
    value: float,
    unit: str,
    lang: str,
    book: RuleBook,
    *,
    signed: bool = False,
    change: bool = False,
) -> str:
    """A figure with its unit words (`2.957.000`, `4,44%`, `4.900 tỷ đồng`, `thứ 15`)."""
    words: Mapping[str, Any] = book.units.get(unit, {})
    suffix = str(words.get(f"change_{lang}" if change else lang, words.get(lang, "")))
    prefix = "" if change else str(words.get(f"{lang}_prefix", ""))
    for threshold, vi, en in words.get("scales", ()):
        if abs(value) >= float(threshold):
            scaled = number(value / float(threshold), lang, 2, signed)
            return f"{prefix}{scaled}{vi if lang == 'vi' else en}"
    return f"{prefix}{number(value, lang, 2, signed)}{suffix}"
