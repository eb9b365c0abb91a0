"""The period grammar (GUIDELINE §6): explicit periods in the text and the report's own."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from chiso_ingest.extraction.lexicon import Lexicon, Rule
from chiso_shared.periods import Period, PeriodError

_ROMAN = MappingProxyType({"i": 1, "ii": 2, "iii": 3, "iv": 4})
_YEAR = re.compile(r"\d{4}")
_DIGIT = re.compile(r"\d")
_YEAR_MENTION = re.compile(r"năm\s+(\d{4})\b")
_MIN_YEAR, _MAX_YEAR = 1990, 2100
_FEW_REGIONS = 3  # more regions than this are scanned as one stretch (`_within`)
_TITLE_KINDS = ("month", "first_months", "half", "quarter", "cumulative", "week")
# the kinds of period a report's opening may state as its own
_OPENING_KINDS = (*_TITLE_KINDS, "year", "day_span", "year_to_day")
# a news item's first paragraph that opens with its place or day ("BUÔN MA THUỘT – Ngày
# 19/10/2023, Bộ ... tổ chức Hội nghị ..."): the event, the figures come after it
_EVENT_LINE = re.compile(
    r"[ \t]*(?:[^\W\d_][^\W\d_ .]*(?: [^\W\d_]+){0,3} *[–-] *)?"  # "buôn ma thuột – "
    r"(?:\([^()\n]{1,30}\) *[–-]? *)?"  # "(chinhphu.vn) - "
    r"(?:(?:sáng|chiều|tối|trưa) +(?:ngày +)?|ngày +)\d{1,2}/\d{1,2}(?:/\d{4})?, "
)
# a news item's opening that counts its figures to a day ("(TTHO) - Tính đến ngày
# 10/11/2020, ..."): that day dates them
_OPENING_CUT_OFF = re.compile(r"(?:^|\n)[ \t]*(?:\([^()\n]{1,30}\)[ \t]*[–-][ \t]*)?tính[ \t]+$")
_TITLE_MAX = 200
_HEADLINE_MAX = 160
_MASTHEAD_MAX = 80
# a web page's furniture above or below an article: a breadcrumb ("Trang chủ > Tin tức",
# "Kinh tế - Xã hội › Chuyển đổi số"), a date and time line ("Thứ Sáu, 14/07/2023 09:12
# (GMT+7)", "Kinh tế | 22/10/2019 - 07:35"), a counter ("Cập nhật ngày: ... | Lượt xem: 1.284")
_FURNITURE_LINE = re.compile(
    r"[ \t]*(?:[^\n]{1,60}?[ \t](?:›|»|>|/)[ \t][^\n]{1,80}"
    r"|(?:[^\d\n]{0,30}[|,-][ \t]*)?(?:thứ[ \t]+\w+,?[ \t]*)?\d{1,2}/\d{1,2}/\d{4}[^\n]{0,40}"
    r"|[^\n]{0,40}(?:cập[ \t]+nhật|lượt[ \t]+xem|in[ \t]+bài|gửi[ \t]+bài|bình[ \t]+luận)"
    r"[^\n]{0,60})[ \t]*"
)
_PREFIX_REACH = 60
_TITLE_VOTE = 3
_CLEAR_VOTE = 2
_DAY_BEFORE = re.compile(r"ngày\s+\d{1,2}\s*$")


@dataclass(frozen=True, slots=True)
class PeriodMention:
    """A period written in the text; `period` is None when it needs the report's year."""

    start: int
    end: int
    kind: str
    groups: tuple[tuple[str, str], ...]

    def group(self, name: str) -> str | None:
        for key, value in self.groups:
            if key == name:
                return value
        return None


def _valid_year(year: int) -> bool:
    return _MIN_YEAR <= year <= _MAX_YEAR


def _within(
    pattern: re.Pattern[str], low: str, regions: list[tuple[int, int]]
) -> Iterator[re.Match[str]]:
    """The matches of `pattern` that lie inside one of `regions` (sorted, disjoint). Many
    short regions are scanned as one stretch and the matches filtered: starting a scan costs
    more than the text between the regions."""
    if len(regions) <= _FEW_REGIONS:
        for a, b in regions:
            yield from pattern.finditer(low, a, b)
        return
    starts = [a for a, _ in regions]
    for m in pattern.finditer(low, regions[0][0], regions[-1][1]):
        k = bisect_right(starts, m.start()) - 1
        if k >= 0 and m.end() <= regions[k][1]:
            yield m


def _anchored(
    pattern: re.Pattern[str],
    low: str,
    regions: list[tuple[int, int]],
    places: list[int],
    back: int,
) -> Iterator[re.Match[str]]:
    """The matches of a rule each of which holds one of the literal `anchors` at most `back`
    characters after its start ("9 tháng" holds "tháng", "đến hết năm 2025" opens with
    "đến"): tried only at the few places before an anchor, where a rule that opens with a
    digit or a choice of words would be tried at every place of the text. The same matches
    as `finditer`, leftmost first and not overlapping. `places`: where the anchors stand in
    the stretch of the regions, sorted (`_Anchors`)."""
    if not regions:
        return
    starts = [a for a, _ in regions]
    done = regions[0][0]
    for at in places:
        k = bisect_right(starts, at) - 1
        if at < done or k < 0 or at >= regions[k][1]:
            continue  # inside the last match, or between the regions
        a, b = regions[k]
        for start in range(max(done, a, at - back), at + 1):
            m = pattern.match(low, start, b)
            if m is not None:
                yield m
                done = m.end()
                break


class _Anchors:
    """Where each anchor word stands in a stretch of text, found once for all the rules that
    share it ("đến", "tới" open five of them)."""

    def __init__(self, low: str, a: int, b: int) -> None:
        self._low, self._a, self._b = low, a, b
        self._found: dict[str, list[int]] = {}

    def places(self, anchors: str) -> list[int]:
        """Where any of the `|`-separated anchors stands, sorted."""
        return sorted(at for anchor in anchors.split("|") for at in self._of(anchor))

    def _of(self, anchor: str) -> list[int]:
        found = self._found.get(anchor)
        if found is None:
            found = []
            at = self._low.find(anchor, self._a, self._b)
            while at >= 0:
                found.append(at)
                at = self._low.find(anchor, at + 1, self._b)
            self._found[anchor] = found
        return found


def _matches(
    rule: Rule, low: str, regions: list[tuple[int, int]], stretch: _Anchors | None
) -> Iterator[re.Match[str]]:
    anchors = rule.yields.get("anchor")
    if anchors is None or stretch is None:
        return _within(rule.pattern, low, regions)
    places = stretch.places(str(anchors))
    return _anchored(rule.pattern, low, regions, places, int(rule.number("back")))


def find_periods(low: str, lex: Lexicon, regions: list[tuple[int, int]]) -> list[PeriodMention]:
    """Period expressions in `regions`, earliest first, overlaps resolved by rule order."""
    found: list[tuple[int, int, int, PeriodMention]] = []
    stretch = _Anchors(low, regions[0][0], regions[-1][1]) if regions else None
    for rank, rule in enumerate(lex.rules("period.rules")):
        for m in _matches(rule, low, regions, stretch):
            before = max(0, m.start() - _PREFIX_REACH)
            # "so với quý IV/2024": the period compared with, a basis and no figure's period
            if lex.pattern("period.basis_prefix").search(low, before, m.start()):
                continue
            if rule.text("kind") in ("year", "month") and lex.pattern(
                "period.not_period_prefix"
            ).search(low, before, m.start()):
                continue
            groups = tuple(
                (k, str(lex.mapping("period.number_words").get(v, v)))
                for k, v in m.groupdict().items()
                if v is not None
            )
            found.append(
                (
                    m.start(),
                    rank,
                    -m.end(),
                    PeriodMention(m.start(), m.end(), rule.text("kind"), groups),
                )
            )
    found.sort()
    kept: list[PeriodMention] = []
    last_end = -1
    for start, _, _, mention in found:
        if start >= last_end:
            kept.append(mention)
            last_end = mention.end
    return kept


def _month(value: str | None) -> int | None:
    if value is None:
        return None
    month = int(value)
    return month if 1 <= month <= 12 else None


def _year(value: str | None, default: int) -> int:
    if value is None:
        return default
    year = int(value)
    return year if _valid_year(year) else default


def _first_months(p: PeriodMention, year: int) -> Period | None:
    raw = p.group("n") or ""
    n = int(raw) if raw.isdigit() else 0
    late = (p.group("part") or "") == "cuối"
    if n == 6:
        return Period.half(year, 2 if late else 1)
    if late and 1 <= n < 12:  # "4 tháng cuối năm": September to December
        return _reported(year, 12, n)
    if late or not 1 <= n <= 12:
        return None
    if n == 12:
        return Period.annual(year)
    return Period.quarter(year, 1) if n == 3 else Period.months(year, 1, n)


def _day(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    day, month = int(p.group("d") or 0), _month(p.group("m"))
    return Period.day(year, month, day) if month and 1 <= day <= 31 else None


def _month_span(p: PeriodMention, _: int, doc_year: int, __: bool) -> Period | None:
    m1, m2 = _month(p.group("m1")), _month(p.group("m2"))
    y2 = _year(p.group("y2"), doc_year)
    # "từ tháng 6 đến tháng 9/2021": the first month in the last one's year, or the year
    # before when it comes later in the calendar ("từ tháng 12 đến tháng 2/2024")
    y1 = _year(p.group("y1"), y2 if (m1 or 0) < (m2 or 0) else y2 - 1)
    if m1 and m2 and (y1, m1) < (y2, m2):
        return Period.span(Period.month(y1, m1), Period.month(y2, m2))
    return None


# Nghị định 09/2019/NĐ-CP: a state report's figures run from the 15th of the month before
# its period starts to the 14th of its last month ("từ ngày 15/6 đến 14/9" is the third
# quarter's report)
_WINDOW_FIRST_DAY, _WINDOW_LAST_DAY = 15, 14


def _day_span(p: PeriodMention, _: int, doc_year: int, __: bool) -> Period | None:
    """ "từ ngày 1/7 đến 20/8/2024": those days; a reporting window, the period it reports."""
    d1, d2 = int(p.group("d1") or 0), int(p.group("d2") or 0)
    m1, m2 = _month(p.group("m1")), _month(p.group("m2"))
    if not (m1 and m2):
        return None
    y2 = _year(p.group("y2"), doc_year)
    y1 = _year(p.group("y1"), y2 if (m1, d1) <= (m2, d2) else y2 - 1)
    months = (y2 * 12 + m2) - (y1 * 12 + m1)
    if (d1, d2) == (_WINDOW_FIRST_DAY, _WINDOW_LAST_DAY) and months > 0:
        window = _reported(y2, m2, months)
        if window is not None:
            return window
    return Period.span(Period.day(y1, m1, d1), Period.day(y2, m2, d2))


def _year_to_day(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    """ "từ đầu năm đến ngày 20/10/2021": 1 January to that day."""
    day, month = int(p.group("d") or 0), _month(p.group("m"))
    if not month or not 1 <= day <= 31:
        return None
    return Period.span(Period.day(year, 1, 1), Period.day(year, month, day))


def _reported(year: int, last: int, months: int) -> Period | None:
    """The period of `months` months ending with month `last` of `year`, by its name."""
    first = last - months + 1
    if months == 1:
        return Period.month(year, last)
    if months == 3 and last % 3 == 0:
        return Period.quarter(year, last // 3)
    if months == 6 and last % 6 == 0:
        return Period.half(year, last // 6)
    if months == 12 and last == 12:
        return Period.annual(year)
    return Period.months(year, first, last) if first >= 1 else None


def _cumulative(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    last = _month(p.group("m") or p.group("n"))
    if last is None:
        return None
    if p.group("n") is not None and last in (3, 6):  # "lũy kế 6 tháng đầu năm": the half
        return Period.quarter(year, 1) if last == 3 else Period.half(year, 1)
    return Period.annual(year) if last == 12 else Period.months(year, 1, last)


def _to_month(p: PeriodMention, year: int, _: int, flow: bool) -> Period | None:
    month = _month(p.group("m"))
    if month is None:
        return None
    return Period.months(year, 1, month) if flow and month > 1 else Period.month(year, month)


def _half(p: PeriodMention, year: int, _: int, __: bool) -> Period:
    return Period.half(year, 2 if "cuối" in (p.group("part") or "") else 1)


def _quarter(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    raw = p.group("q") or ""
    q = _ROMAN.get(raw) or (int(raw) if raw.isdigit() else 0)
    return Period.quarter(year, q) if 1 <= q <= 4 else None


def _single_month(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    month = _month(p.group("m"))
    return Period.month(year, month) if month else None


def _iso_week(year: int, week: int) -> tuple[date, date] | None:
    """Monday and Sunday of ISO week `week` of `year` (how weekly bulletins count weeks)."""
    if not 1 <= week <= 53:
        return None
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return monday, date.fromordinal(monday.toordinal() + 6)


def _days(first: date, last: date) -> Period:
    return Period.span(
        Period.day(first.year, first.month, first.day), Period.day(last.year, last.month, last.day)
    )


def _week(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    """ "tuần 45": the days of that week, Monday to Sunday."""
    week = _iso_week(year, int(p.group("w") or 0))
    return None if week is None else _days(*week)


def _week_to_date(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    """ "từ đầu năm đến hết tuần 45": 1 January to that week's Sunday."""
    week = _iso_week(year, int(p.group("w") or 0))
    return None if week is None or week[1].year != year else _days(date(year, 1, 1), week[1])


def previous_week(own: Period) -> Period | None:
    """The seven days before `own` when `own` is a week's seven days ("tuần trước")."""
    if own.parts is None or own.first.frequency != "D" or (own.end - own.start).days != 6:
        return None
    return _days(
        date.fromordinal(own.start.toordinal() - 7), date.fromordinal(own.end.toordinal() - 7)
    )


def _year_span(p: PeriodMention, _: int, __: int, ___: bool) -> Period | None:
    y1, y2 = int(p.group("y1") or 0), int(p.group("y2") or 0)
    return Period.years(y1, y2) if _valid_year(y1) and _valid_year(y2) and y1 < y2 else None


def _written_year(p: PeriodMention, year: int, _: int, __: bool) -> Period | None:
    return Period.annual(year) if p.group("y") else None


def _this_year(_: PeriodMention, __: int, doc_year: int, ___: bool) -> Period:
    return Period.annual(doc_year)


def _next_year(_: PeriodMention, __: int, doc_year: int, ___: bool) -> Period:
    return Period.annual(doc_year + 1)


def _horizon(p: PeriodMention, year: int, doc_year: int, flow: bool) -> Period | None:
    """ "đến năm 2025" is that year; the end ("cuối", "hết") of the reported year or an
    earlier one dates a stock by its last month: what was counted in December."""
    if not p.group("y"):
        return None
    if p.group("end") and year <= doc_year and not flow:
        return Period.month(year, 12)
    return Period.annual(year)


# How each kind of period rule (data/periods.toml) builds its period from the named groups,
# given the year it names (else the report's), the report's year and whether the figure
# is a flow.
_BUILDERS: Mapping[str, Callable[[PeriodMention, int, int, bool], Period | None]] = (
    MappingProxyType(
        {
            "day": _day,
            "year_to_day": _year_to_day,
            "day_span": _day_span,
            "month_span": _month_span,
            "cumulative": _cumulative,
            "to_month": _to_month,
            "first_months": lambda p, year, _, __: _first_months(p, year),
            "half": _half,
            "quarter": _quarter,
            "month": _single_month,
            "year_span": _year_span,
            "week": _week,
            "week_to_date": _week_to_date,
            "year": _written_year,
            "horizon": _horizon,
            "this_year": _this_year,
            "next_year": _next_year,
        }
    )
)


def resolve_period(p: PeriodMention, doc_year: int, *, flow: bool) -> Period | None:
    """The period of a mention, given the report's year; None when it names none (a
    month 13, a day the calendar lacks)."""
    build = _BUILDERS.get(p.kind)
    if build is None:
        return None
    try:
        return build(p, _year(p.group("y") or p.group("y2"), doc_year), doc_year, flow)
    except PeriodError:
        return None


def resolve(p: PeriodMention, doc_year: int, *, flow: bool) -> str | None:
    """`resolve_period` as the period's text, as facts carry it."""
    period = resolve_period(p, doc_year, flow=flow)
    return None if period is None else str(period)


def year_to_date(report_period: str) -> str:
    """ "Lũy kế từ đầu năm" in a report on `report_period`: January to the month it ends."""
    period = Period.parse(report_period)
    end = period.end
    if period.is_span and period.last.frequency == "D":  # a week's bulletin: to its last day
        return str(_days(date(end.year, 1, 1), end))
    return str(_reported(end.year, end.month, end.month))


def _published(published: str | None) -> date | None:
    """The publication hint as a day: "2023-12" is read as 1 December 2023."""
    if published is None:
        return None
    try:
        return Period.parse(published).start
    except ValueError:
        return None


def _opening_period(
    low: str, lex: Lexicon, periods: list[PeriodMention], published: date | None
) -> Period | None:
    """The period the report opens with ("Trong tháng 11, doanh thu ...", "Năm 2023, ..."):
    the first period named in the first line that names one, skipping heading lines (the
    agency's name, "Thông cáo báo chí") that name none, when that period is of a kind a
    report covers and does not start after the publication date (a plan's year is no
    report's). Without a year it is completed by the publication date: the latest such
    period that starts by then. (The whole line, not its first sentence: a bulletin's
    heading often runs into its first item.)"""
    first = _first_named(low, lex, periods)
    if first is None or not (
        first.kind in _OPENING_KINDS
        or _cut_off_line(low, lex, first)
        or (first.kind == "day" and _OPENING_CUT_OFF.search(low, 0, first.start) is not None)
    ):
        return None
    if _DAY_BEFORE.search(low, max(0, first.start - 12), first.start):
        return None  # "ngày 15 tháng 12": a date, not the period reported
    line_start = low.rfind("\n", 0, first.start) + 1
    if (
        first.kind == "year"
        and lex.pattern("document.future_before").search(low, max(0, first.start - 40), first.start)
        and not lex.pattern("document.report_words").search(low, line_start, first.start)
    ):
        return None  # "triển khai nhiệm vụ năm 2019": the plan's year, not the one reported
    found = _completed(first, published)
    if found is None or (published is not None and found.start > published):
        return None
    return found


def _line_at(low: str, start: int, end: int) -> tuple[int, int]:
    """Where the line that holds `low[start:end]` starts and ends (its break excluded)."""
    line_end = low.find("\n", end)
    return low.rfind("\n", 0, start) + 1, len(low) if line_end < 0 else line_end


def _cut_off_line(low: str, lex: Lexicon, p: PeriodMention) -> bool:
    """A cut-off day alone on its line under a title ("(Tính đến ngày 31/12/2024)"): the
    day a data sheet counts its stocks on."""
    start, end = _line_at(low, p.start, p.end)
    return (
        p.kind == "day"
        and lex.pattern("document.cut_off_line").fullmatch(low, start, end) is not None
    )


def _window_under_title(low: str, lex: Lexicon, periods: list[PeriodMention]) -> Period | None:
    for p in periods:
        if p.start > lex.integer("document.title_window"):
            break
        if p.kind == "day_span" and _window_line(low, lex, p):
            window = resolve_period(p, 0, flow=True)  # (the pattern requires its year)
            if window is not None:
                return window
    return None


def _window_line(low: str, lex: Lexicon, p: PeriodMention) -> bool:
    """A window of days alone on its line under a title ("(Từ ngày 4/3 đến ngày
    10/3/2024)"): the days a weekly bulletin covers."""
    start, end = _line_at(low, p.start, p.end)
    return start > 0 and lex.pattern("document.window_line").fullmatch(low, start, end) is not None


def _first_named(low: str, lex: Lexicon, periods: list[PeriodMention]) -> PeriodMention | None:
    """The first period of the first line within `document.title_window` that names one;
    a line that names none but is long or holds a figure is the body, which then states no
    period of its own."""
    start = len(low) - len(low.lstrip())
    headline = True  # the first line that is no page furniture may be a headline
    while start < min(len(low) + 1, lex.integer("document.title_window")):
        end = low.find("\n", start)
        end = len(low) if end < 0 else end
        if _FURNITURE_LINE.fullmatch(low, start, end) or not low[start:end].strip():
            start = end + 1  # a web page's breadcrumb, date line or counter
            continue
        reach = min(end, start + lex.integer("document.opening_window"))
        first = next((p for p in periods if start <= p.start < reach and p.kind != "now"), None)
        if first is None and _EVENT_LINE.match(low, start):
            start = end + 1  # a news item's dateline paragraph tells the event, not the data
            continue
        figure = _DIGIT.search(low, start, end) is not None
        weak = first is None or (  # "... từ đầu năm" in a headline
            first.kind not in _OPENING_KINDS and not _cut_off_line(low, lex, first)
        )
        if weak and headline and figure and _is_headline(low, start, end):
            start, headline = end + 1, False  # "Gần 95% hồ sơ ... đúng hạn": no body yet
            continue
        if first is not None or end - start > _TITLE_MAX or figure:
            return first
        start = end + 1
    return None


def _is_headline(low: str, start: int, end: int) -> bool:
    """A news item's headline: short, no sentence, the text's first line past its masthead."""
    line = low[start:end].rstrip()
    return len(line) <= _HEADLINE_MAX and not line.endswith(".") and _masthead_only(low, start)


def _masthead_only(low: str, line_start: int) -> bool:
    """Only a masthead stands above `line_start`: page furniture, and short lines without
    figures (a site's or an agency's name)."""
    for line in low[:line_start].splitlines():
        text = line.strip()
        if (
            text
            and not _FURNITURE_LINE.fullmatch(text)
            and (len(text) > _MASTHEAD_MAX or _DIGIT.search(text))
        ):
            return False
    return True


def _year_so_far(
    low: str, lex: Lexicon, periods: list[PeriodMention], published: str | None
) -> Period | None:
    """News that names no period of its own and compares with "cùng kỳ (năm 2023)" in its
    first line reports the year so far at its publication month: published in March 2024,
    `2024-Q1`; in August, `2024-01/2024-08`."""
    when = Period.try_parse(published or "")
    if when is None or when.frequency not in ("M", "D"):
        return None
    start = len(low) - len(low.lstrip())
    end = low.find("\n", start)
    end = min(len(low) if end < 0 else end, start + lex.integer("document.opening_window"))
    if any(p.start < end and p.kind != "now" for p in periods):
        return None
    same = lex.pattern("document.same_period_last_year").search(low, start, end)
    if same is None:
        return None
    compared = same.group("y")
    if compared is not None and int(compared) != when.year - 1:
        return None
    return _reported(when.year, when.start.month, when.start.month)


def published_period(published: str | None) -> Period | None:
    """The publication hint as a period, None when it is none."""
    return Period.try_parse(published) if published else None


def now_period(report: Period, published: Period | None) -> Period | None:
    """ "Đến nay": the publication's year, when it is later than the report's (a report on
    2023 published in January 2024 counts what exists in 2024); None otherwise."""
    if published is None or published.year <= report.end.year:
        return None
    return Period.annual(published.year)


def _completed(p: PeriodMention, published: date | None) -> Period | None:
    year_text = p.group("y") or p.group("y2")
    if year_text is not None:
        return resolve_period(p, int(year_text), flow=True)
    if published is None:
        return None
    for year in (published.year, published.year - 1):
        found = resolve_period(p, year, flow=True)
        if found is not None and found.start <= published:
            return found
    return None


def _title_period(
    low: str, lex: Lexicon, periods: list[PeriodMention], published: date | None
) -> Period | None:
    """A month, half or quarter named in a title line marks a monthly/half-year report;
    without a year on the line, the publication date completes it. A window of days on a
    line of its own under the title (a weekly bulletin's) says it best."""
    window = _window_under_title(low, lex, periods)
    if window is not None:
        return window
    for p in periods:
        if p.start > lex.integer("document.title_window"):
            break
        if p.kind not in _TITLE_KINDS or _DAY_BEFORE.search(low, max(0, p.start - 12), p.start):
            continue
        line_start, line_end = _line_at(low, p.start, p.end)
        # a headline (the text's first line, no sentence) names its period as a title does
        line = low[line_start:line_end].rstrip()
        headline = _masthead_only(low, line_start) and not line.endswith(".")
        if line_end - line_start > _TITLE_MAX or not (
            headline
            or lex.pattern("document.report_words").search(low, line_start, p.start)
            or (_wraps_a_title(low, line_start) and _in_title_line(low, p.start, lex))
        ):
            continue
        year_text = p.group("y") or p.group("y2")
        if year_text is None:
            later = _YEAR.search(low, p.end, line_end)
            year_text = later.group() if later else None
        if year_text is None:
            completed = _completed(p, published)
            if completed is not None:
                return completed
            continue
        period = resolve_period(p, int(year_text), flow=True)
        if period is not None:
            return period
    return None


def _wraps_a_title(low: str, line_start: int) -> bool:
    """The line at `line_start` may go on from a title above it: neither ends a sentence
    or opens a list ("Báo cáo ... năm 2024." over "Sáu tháng đầu năm, ..." does not)."""
    line_end = low.find("\n", line_start)
    line = low[line_start : len(low) if line_end < 0 else line_end].rstrip()
    above = low[low.rfind("\n", 0, max(0, line_start - 1)) + 1 : line_start].rstrip()
    return not line.endswith((".", ":")) and not above.endswith((".", ":"))


def _in_title(low: str, pos: int, lex: Lexicon) -> bool:
    return pos < lex.integer("document.title_window") and _in_title_line(low, pos, lex)


def _in_title_line(low: str, pos: int, lex: Lexicon) -> bool:
    """A short line near the top that names a report ("Báo cáo tổng kết ... năm 2023"), or
    the line a title wraps onto ("Kết quả xếp hạng ... các sở, ngành" over "và UBND các
    huyện năm 2023")."""
    start, end = _line_at(low, pos, pos)
    if end - start > _TITLE_MAX:
        return False
    if lex.pattern("document.report_words").search(low, start, pos) is not None:
        return True
    above = low.rfind("\n", 0, max(0, start - 1)) + 1
    return (
        0 < start - above <= _TITLE_MAX
        and bool(low[above : start - 1].strip())
        and lex.pattern("document.report_words").search(low, above, start) is not None
    )


def _year_votes(low: str, lex: Lexicon) -> Counter[int]:
    votes: Counter[int] = Counter()
    for m in _YEAR_MENTION.finditer(low):
        year = int(m.group(1))
        if not _valid_year(year):
            continue
        before = low[max(0, m.start() - 40) : m.start()]
        after = low[m.end() : m.end() + 40]
        # a title names the year it reports, even one that compares ("So sánh ... năm 2022")
        title = _in_title(low, m.start(), lex)
        if lex.pattern("document.future_before").search(before) or (
            not title and lex.pattern("period.basis_prefix").search(before)
        ):
            continue
        if lex.pattern("document.future_after").search(after):
            votes[year] += 0
            continue
        votes[year] += 2 if lex.pattern("document.strong_before").search(before) else 1
        if title:
            votes[year] += _TITLE_VOTE
    # an index named with the year it rates ("Vietnam ICT Index 2019", "DTI 2022")
    for m in lex.pattern("document.index_year").finditer(low):
        year = int(m.group("y"))
        if _valid_year(year):
            votes[year] += 1 + (_TITLE_VOTE if _in_title(low, m.start(), lex) else 0)
    for m in lex.pattern("document.dated").finditer(low):
        year = int(m.group("y"))
        if _valid_year(year):
            votes[year] += 1
    # a cut-off day the figures are counted to ("Từ đầu năm đến ngày 20/10/2021"): its year
    for m in lex.pattern("document.cut_off_day").finditer(low):
        year = int(m.group("y"))
        if _valid_year(year):
            votes[year] += 2
    return votes


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """The report's own period and how it was found: `stated` in its title or opening with
    the year; `completed` there without the year, which the publication date gave; `so_far`
    from the publication date of news that names none; `votes`, the year it names most;
    `published`, the publication date's year; `years`, the latest year it names."""

    period: Period
    source: str


def document_period(
    low: str, lex: Lexicon, periods: list[PeriodMention], published: str | None
) -> ReportPeriod | None:
    """The report's own period: its title, else its opening, else its most named year,
    else `published`."""
    when = _published(published)
    stated = _title_period(low, lex, periods, when) or _opening_period(low, lex, periods, when)
    if stated is not None:
        return ReportPeriod(
            stated, "stated" if _stated_alone(low, lex, periods, stated) else "completed"
        )
    so_far = _year_so_far(low, lex, periods, published)
    if so_far is not None:
        return ReportPeriod(so_far, "so_far")
    return _voted_period(low, lex, published)


def _stated_alone(low: str, lex: Lexicon, periods: list[PeriodMention], found: Period) -> bool:
    """Whether the title or opening gives the same period without the publication date."""
    alone = _title_period(low, lex, periods, None) or _opening_period(low, lex, periods, None)
    return alone == found


def _voted_period(low: str, lex: Lexicon, published: str | None) -> ReportPeriod | None:
    votes = _year_votes(low, lex)
    hint = _YEAR.match(published or "")
    hinted = int(hint.group()) if hint and _valid_year(int(hint.group())) else None
    if votes:
        year, support = max(votes.items(), key=lambda kv: (kv[1], -abs(kv[0] - _latest(votes))))
        # one passing "năm 2020" does not outweigh the publication date
        if hinted is None or support >= _CLEAR_VOTE:
            return ReportPeriod(Period.annual(year), "votes")
    if hinted is not None:
        return ReportPeriod(Period.annual(hinted), "published")
    years = [int(y) for y in _YEAR.findall(low) if _valid_year(int(y))]
    return ReportPeriod(Period.annual(max(years)), "years") if years else None


def _latest(votes: Counter[int]) -> int:
    return max(votes)
