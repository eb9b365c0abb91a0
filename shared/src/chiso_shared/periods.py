"""The period a value refers to (../shared/eval/GUIDELINE.md §6), as one value object.

The grammar: `2023` a year, `2023-S1` a half-year, `2023-Q3` a quarter, `2023-11` a month,
`2023-12-20` a day, and `A/B` a span from one single period through another
(`2021-12/2023-11`, `2023-01/2023-11`, `2023/2024`). Facts carry periods as these strings on
the wire; code reads, compares and builds them through `Period`, never by slicing strings.

    Period.parse("2023-Q1").end          -> date(2023, 3, 31)
    str(Period.months(2023, 1, 11))      -> "2023-01/2023-11"
    Period.parse("2023-S2").next()       -> Period("2024-S1")
    Period.parse("2023-11").to_dhis2()   -> "202311"
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, total_ordering
from types import MappingProxyType
from typing import Literal, final

__all__ = ["Frequency", "Period", "PeriodError"]

# SDMX-like frequency codes: annual, half-year, quarter, month, day; X for a span.
Frequency = Literal["A", "S", "Q", "M", "D", "X"]

# How many months one period of each frequency covers (a day is handled apart).
_MONTHS: Mapping[str, int] = MappingProxyType({"A": 12, "S": 6, "Q": 3, "M": 1})
# ASCII digits only: `\d` would also take other scripts' digits, which do not round-trip.
_SINGLE = re.compile(r"([0-9]{4})(?:-(?:S([0-9])|Q([0-9])|([0-9]{2})(?:-([0-9]{2}))?))?")
_DHIS2 = re.compile(r"([0-9]{4})(?:([QS][0-9])|([0-9]{2})([0-9]{2})?)?")
_FORMS_VI = "2023, 2023-S1, 2023-Q3, 2023-11, 2023-12-20 hoặc khoảng A/B như 2023-01/2023-11"
_FORMS_EN = "2023, 2023-S1, 2023-Q3, 2023-11, 2023-12-20 or a span A/B such as 2023-01/2023-11"


class PeriodError(ValueError):
    """A text or a part that is not a period; the message is in Vietnamese, then English."""

    def __init__(self, vi: str, en: str) -> None:
        # Kept lower-case so that `parse` can nest them after the period's text.
        super().__init__(f"{vi[:1].upper()}{vi[1:]}. {en[:1].upper()}{en[1:]}.")
        self.vi = vi
        self.en = en


@final
@total_ordering
@dataclass(frozen=True, slots=True, repr=False)
class Period:
    """One period of the grammar. Build it with `parse` or the constructors.

    `start` and `end` are the first and the last day covered. `parts` is the (first, last)
    pair of a span and None for a single period. Equal periods have equal text; the order
    is by start, then end, a single period before a span covering the same days, then text.
    """

    start: date
    end: date
    frequency: Frequency
    parts: tuple[Period, Period] | None = None

    def __post_init__(self) -> None:
        if self.parts is None:
            _check_single(self)
        else:
            _check_span(self, *self.parts)

    # --- reading and writing text ---------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period `text` states; PeriodError (a ValueError) when it is off-grammar."""
        return _parse(text)

    @classmethod
    def try_parse(cls, text: str) -> Period | None:
        """The period `text` states, or None when it is off-grammar."""
        try:
            return _parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        if self.parts is not None:
            return f"{self.parts[0]}/{self.parts[1]}"
        year, month = self.start.year, self.start.month
        if self.frequency == "A":
            return f"{year:04d}"
        if self.frequency == "S":
            return f"{year:04d}-S{1 if month == 1 else 2}"
        if self.frequency == "Q":
            return f"{year:04d}-Q{(month - 1) // 3 + 1}"
        if self.frequency == "M":
            return f"{year:04d}-{month:02d}"
        return self.start.isoformat()

    def __repr__(self) -> str:
        return f"Period({str(self)!r})"

    @classmethod
    def from_dhis2(cls, text: str) -> Period:
        """A DHIS2 period (`2023`, `2023S1`, `2023Q1`, `202311`, `20231220`)."""
        match = _DHIS2.fullmatch(text)
        period = _try_single("-".join(g for g in match.groups() if g)) if match else None
        if period is None:
            raise PeriodError(
                f"{text!r} không phải kỳ DHIS2 như 2023, 2023S1, 2023Q1, 202311 hoặc 20231220",
                f"{text!r} is not a DHIS2 period such as 2023, 2023S1, 2023Q1, 202311 or 20231220",
            )
        return period

    def to_dhis2(self) -> str | None:
        """`2023-Q1` -> `2023Q1`, `2023-11` -> `202311`; a span has no DHIS2 form (None)."""
        return None if self.parts is not None else str(self).replace("-", "")

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def annual(cls, year: int) -> Period:
        """The calendar year `year` (named so because `year` is the start year's property)."""
        return _single("A", _first_day(year, 1))

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        _check_index(half, 2, "nửa năm", "half-year")
        return _single("S", _first_day(year, 6 * half - 5))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        _check_index(quarter, 4, "quý", "quarter")
        return _single("Q", _first_day(year, 3 * quarter - 2))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        _check_index(month, 12, "tháng", "month")
        return _single("M", _first_day(year, month))

    @classmethod
    def day(cls, year: int, month: int, day: int) -> Period:
        first = _first_day(year, month)
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise PeriodError(
                f"tháng {month}/{year} không có ngày {day}",
                f"there is no day {day} in {year:04d}-{month:02d}",
            )
        return _single("D", first.replace(day=day))

    @classmethod
    def span(cls, first: Period, last: Period) -> Period:
        """From `first` through `last`, two single periods; `last` must not start before
        `first` nor end before it. `span(p, p)` is a span (`2023-01/2023-01`), kept as
        written because extracted text states such spans."""
        return cls(first.start, last.end, "X", (first, last))

    @classmethod
    def months(cls, year: int, first: int, last: int) -> Period:
        """`months(2023, 1, 11)` is `2023-01/2023-11`."""
        return cls.span(cls.month(year, first), cls.month(year, last))

    @classmethod
    def years(cls, first: int, last: int) -> Period:
        """`years(2023, 2024)` is `2023/2024` (a school year, a plan's term)."""
        return cls.span(cls.annual(first), cls.annual(last))

    # --- properties -----------------------------------------------------------------------

    @property
    def is_span(self) -> bool:
        return self.parts is not None

    @property
    def first(self) -> Period:
        """A span's first single period; a single period is its own."""
        return self if self.parts is None else self.parts[0]

    @property
    def last(self) -> Period:
        """A span's last single period; a single period is its own."""
        return self if self.parts is None else self.parts[1]

    @property
    def year(self) -> int:
        """The year the period starts in (`2023` for `2023-12/2024-02`)."""
        return self.start.year

    # --- neighbours -----------------------------------------------------------------------

    def next(self) -> Period:
        """The single period of the same frequency right after this one (`2023-S2` ->
        `2024-S1`, `2023-12-31` -> `2024-01-01`). A span has none: PeriodError, because
        what follows `2023-01/2023-11` (a month? the same span a year on?) is the caller's
        choice."""
        return self._shifted(1)

    def previous(self) -> Period:
        """The single period of the same frequency right before this one; spans as `next`."""
        return self._shifted(-1)

    def in_year(self, year: int) -> Period:
        """The same part of another year (`2023-11` in 2022 is `2022-11`; a span moves both
        ends by the same number of years): what "cùng kỳ năm 2022" names. PeriodError when
        that year lacks the day (29 February)."""
        if self.parts is not None:
            step = year - self.start.year
            first, last = self.parts
            return Period.span(first.in_year(year), last.in_year(last.start.year + step))
        if self.frequency == "D":
            return Period.day(year, self.start.month, self.start.day)
        return _single(self.frequency, _first_day(year, self.start.month))

    def _shifted(self, step: int) -> Period:
        if self.parts is not None:
            raise PeriodError(
                f"khoảng {self} không có kỳ liền trước hay liền sau",
                f"the span {self} has no previous or next period",
            )
        if self.frequency == "D":
            ordinal = self.start.toordinal() + step
            if not date.min.toordinal() <= ordinal <= date.max.toordinal():
                raise _year_error(self.start.year + step)
            return _single("D", date.fromordinal(ordinal))
        months = self.start.year * 12 + self.start.month - 1 + step * _MONTHS[self.frequency]
        return _single(self.frequency, _first_day(months // 12, months % 12 + 1))

    # --- comparing ------------------------------------------------------------------------

    def _key(self) -> tuple[date, date, bool, str]:
        return (self.start, self.end, self.parts is not None, str(self))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def contains(self, other: Period | date) -> bool:
        """Whether every day of `other` lies within this period (`2023` contains `2023-Q2`
        and itself, `2023-Q4` does not contain `2023-11/2024-01`)."""
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other <= self.end

    def __contains__(self, other: object) -> bool:
        return isinstance(other, Period | date) and self.contains(other)

    def starts_after(self, other: Period) -> bool:
        """Whether this period starts after `other` ends (`2024-Q1` after `2023`, but
        `2023-12` not after `2023`: they share December)."""
        return self.start > other.end


@lru_cache(maxsize=4096)
def _parse(text: str) -> Period:
    """Cached: every fact's period is validated here, and a batch repeats a few periods."""
    try:
        pieces = text.split("/")
        if len(pieces) > 2:
            raise _off_grammar()
        if len(pieces) == 1:
            return _read_single(text)
        return Period.span(_read_single(pieces[0]), _read_single(pieces[1]))
    except PeriodError as error:
        raise PeriodError(
            f"kỳ {text!r} không hợp lệ: {error.vi}", f"period {text!r} is not valid: {error.en}"
        ) from None


def _read_single(text: str) -> Period:
    """The single period `text` states; PeriodError when it is not one."""
    match = _SINGLE.fullmatch(text)
    if match is None:
        raise _off_grammar()
    year, half, quarter, month, day = match.groups()
    if half is not None:
        return Period.half(int(year), int(half))
    if quarter is not None:
        return Period.quarter(int(year), int(quarter))
    if day is not None:
        return Period.day(int(year), int(month), int(day))
    if month is not None:
        return Period.month(int(year), int(month))
    return Period.annual(int(year))


def _try_single(text: str) -> Period | None:
    try:
        return _read_single(text)
    except PeriodError:
        return None


def _off_grammar() -> PeriodError:
    return PeriodError(f"không có dạng {_FORMS_VI}", f"it is not {_FORMS_EN}")


def _single(frequency: Frequency, start: date) -> Period:
    return Period(start, _end_of(frequency, start), frequency)


def _end_of(frequency: Frequency, start: date) -> date:
    """The last day of the single period of `frequency` that starts on `start`."""
    if frequency == "D":
        return start
    months = start.year * 12 + start.month - 1 + _MONTHS[frequency] - 1
    year, month = months // 12, months % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _first_day(year: int, month: int) -> date:
    if not date.min.year <= year <= date.max.year:
        raise _year_error(year)
    _check_index(month, 12, "tháng", "month")
    return date(year, month, 1)


def _year_error(year: int) -> PeriodError:
    return PeriodError(f"năm {year} nằm ngoài 1..9999", f"year {year} is outside 1..9999")


def _check_index(number: int, top: int, vi: str, en: str) -> None:
    if not 1 <= number <= top:
        raise PeriodError(f"không có {vi} {number} (1..{top})", f"there is no {en} {number}")


def _check_single(period: Period) -> None:
    """A single period starts on the first day of its frequency's unit and ends on its last."""
    start, frequency = period.start, period.frequency
    aligned = frequency == "D" or (
        frequency in _MONTHS and start.day == 1 and (start.month - 1) % _MONTHS[frequency] == 0
    )
    if not aligned or _end_of(frequency, start) != period.end:
        raise PeriodError(
            f"không có kỳ {frequency} từ {start} đến {period.end}",
            f"there is no {frequency} period from {start} to {period.end}",
        )


def _check_span(span: Period, first: Period, last: Period) -> None:
    """Both ends single, `last` neither starting nor ending before `first`."""
    if first.is_span or last.is_span:
        raise PeriodError(
            f"khoảng {first}/{last} phải nối hai kỳ đơn",
            f"the span {first}/{last} must join two single periods",
        )
    if last.start < first.start or last.end < first.end:
        raise PeriodError(
            f"kỳ cuối của khoảng {first}/{last} bắt đầu hoặc kết thúc trước kỳ đầu",
            f"the span {first}/{last} ends with a period that starts or ends before its first",
        )
    if (span.frequency, span.start, span.end) != ("X", first.start, last.end):
        raise PeriodError(
            f"khoảng {first}/{last} phải đi từ {first.start} đến {last.end}",
            f"the span {first}/{last} runs from {first.start} to {last.end}",
        )
