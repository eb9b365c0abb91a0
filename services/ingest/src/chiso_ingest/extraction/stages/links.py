"""Links: each number's segment of text, its windows and the period written for it.

The segment of a number runs from its clause's start, or from where the number before it
in the sentence ends, to the number: the words that speak of it. The period written for
a number is the first period right after it or the last one before it in its sentence;
a period that a number before it took from its right is taken.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.periods import (
    PeriodMention,
    now_period,
    resolve_period,
    year_to_date,
)
from chiso_shared.facts import Role, Unit
from chiso_shared.periods import Period

_CLAUSE_END = re.compile(r"[;.!?\n]")
_CLAUSE_MARK = re.compile(r"[,;.!?\n()]")
_TRAILING_GAP = re.compile(r"\s*\(?\s*")
# "Trong N năm" reaches back at most this many years ("trong 99 năm" spans no report)
_MOST_YEARS = 20


@dataclass(slots=True)
class LinkWalk:
    """What the walk over a document's numbers remembers from one number to the next."""

    taken: set[int] = field(default_factory=set)  # periods numbers took from their right
    last_level: int | None = None
    component: int | None = None  # the total whose "trong đó" parts are being listed
    levels: list[tuple[int, int]] = field(default_factory=list)  # the sentence's (depth, index)


def link(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    mentions = list(mentions)
    walk = LinkWalk()
    out: list[Mention] = []
    for k, m in enumerate(mentions):
        next_start = mentions[k + 1].start if k + 1 < len(mentions) else len(doc.text)
        prev = mentions[k - 1] if k else None
        near, clause = doc.near_start(m.start), doc.clause_start(m.start)
        seg_start = _segment_start(m, prev, clause)
        _enter(doc, walk, m, prev, doc.low[seg_start : m.start])
        said = _said_period(doc, m, walk.taken, next_start, doc.sentence_starts[m.sentence])
        out.append(
            m.evolve(
                near=near,
                clause=clause,
                seg_start=seg_start,
                right_end=_right_end(doc, m, next_start),
                next_start=next_start,
                depth=(depth := _depth(doc, m, near)),
                said_period=said,
                parent=_parent(walk.levels, depth) if m.role is not Role.level else None,
                component=walk.component,
                previous_level=walk.levels[-1][1] if walk.levels else None,
            )
        )
        out[-1] = _ranked_change(out, out[-1])
        if m.role is Role.level:
            if depth == 0:  # a figure in brackets is no total of a "trong đó" list after it
                walk.last_level = k
            walk.levels.append((depth, k))
    return out


def _ranked_change(done: list[Mention], m: Mention) -> Mention:
    """A bare change in a table's column after ranks ("Hạng 2023 | Hạng 2022 | Tăng/giảm")
    moves in places: a rank, not a count."""
    if m.parent is None or m.cell is None or m.unit_written or m.unit is not Unit.count:
        return m
    return m.evolve(unit=Unit.rank) if _row_ranks(done, m) else m


def _row_ranks(done: list[Mention], m: Mention) -> bool:
    """The change's level is a rank, or its table row ranks ("01 (0,812) | +2")."""
    assert m.parent is not None
    if done[m.parent].unit is Unit.rank:
        return True
    for d in reversed(done):
        if d.sentence != m.sentence:
            return False
        if d.unit is Unit.rank and d.role is Role.level and d.cell is not None:
            return True
    return False


def _enter(doc: Doc, walk: LinkWalk, m: Mention, prev: Mention | None, seg: str) -> None:
    """Track sentences and "trong đó" lists, whose parts share their total's status."""
    lex = doc.lex
    if prev is None or prev.sentence != m.sentence:
        walk.levels = []
        opens = lex.pattern("status.component").match(doc.low, doc.sentence_starts[m.sentence])
        walk.component = walk.last_level if opens else None
    if (
        lex.pattern("status.component").search(
            seg, max(0, len(seg) - lex.integer("windows.governs"))
        )
        and walk.last_level is not None
    ):
        walk.component = walk.last_level
    elif ")" in seg:
        walk.component = None


def _parent(levels: list[tuple[int, int]], depth: int) -> int | None:
    """The level a change qualifies: the latest outside the change's own brackets
    ("415.713 (tăng 35,56%)"), else the latest not inside deeper brackets."""
    outer = next((k for d, k in reversed(levels) if d < depth), None)
    if outer is not None:
        return outer
    return next((k for d, k in reversed(levels) if d <= depth), None)


def _segment_start(m: Mention, prev: Mention | None, clause: int) -> int:
    start = clause
    if prev is not None and prev.sentence == m.sentence:
        start = max(start, min(prev.tail_end, m.start))
    return start


def _right_end(doc: Doc, m: Mention, next_start: int) -> int:
    """Where the words after a value stop naming it: a clause mark, a new conjunct, a comma
    (except after a rank), or the next number."""
    reach = doc.lex.integer("windows.item")
    stop = doc.lex.pattern("indicator.window_stop").search(doc.text, m.unit_end, m.unit_end + reach)
    end = stop.start() if stop else min(len(doc.text), m.unit_end + reach)
    comma = doc.text.find(",", m.unit_end, end)
    if m.unit is not Unit.rank and comma >= 0:
        end = comma
    return max(m.unit_end, min(end, next_start))


def clause_end(doc: Doc, m: Mention) -> int:
    reach = 2 * doc.lex.integer("windows.item")
    stop = _CLAUSE_END.search(doc.text, m.unit_end, m.unit_end + reach)
    return stop.start() if stop else min(len(doc.text), m.unit_end + reach)


def _depth(doc: Doc, m: Mention, start: int) -> int:
    """How many brackets are open at the number, within its sentence (from `start`)."""
    return max(0, doc.low.count("(", start, m.start) - doc.low.count(")", start, m.start))


def _said_period(
    doc: Doc, m: Mention, taken: set[int], next_start: int, sent_start: int
) -> PeriodMention | None:
    _, sent_end = doc.sentence_bounds(m.sentence)
    i = bisect_left(doc.period_starts, m.tail_end)
    if i and _ends_the_item(doc, m, doc.periods[i - 1], min(next_start, sent_end)):
        taken.add(i - 1)
        return doc.periods[i - 1]
    if i < len(doc.periods):
        p = doc.periods[i]
        gap = doc.low[m.tail_end : p.start]
        names_next = doc.lex.pattern("period.names_next").match(doc.low, p.end) is not None
        if p.end <= min(next_start, sent_end) and _TRAILING_GAP.fullmatch(gap) and not names_next:
            taken.add(i)
            return p
        if p.end <= min(next_start, sent_end) and _after_item(doc, m, p):
            return p
    j = bisect_left(doc.period_starts, m.start) - 1
    aside: PeriodMention | None = None
    while j >= 0 and doc.periods[j].start >= sent_start:
        p = doc.periods[j]
        if j not in taken and p.end <= m.start:
            if p.kind not in doc.lex.words("period.aside_kinds") or not _closed_before(doc, p, m):
                return p
            aside = aside or p
        j -= 1
    return aside


def _ends_the_item(doc: Doc, m: Mention, p: PeriodMention, end: int) -> bool:
    """A period the figure's item runs into ("642 trạm năm 2021 lên 731 trạm năm 2022"):
    written right after its unit and item, it dates that figure, not the next."""
    return (
        m.unit_end <= p.start < m.item_end == m.tail_end <= p.end <= end
        and _CLAUSE_MARK.search(doc.low, m.unit_end, p.start) is None
        and doc.lex.pattern("period.names_next").match(doc.low, p.end) is None
    )


def _after_item(doc: Doc, m: Mention, p: PeriodMention) -> bool:
    """A period written after the figure's item in its clause, led by "trong", "vào" ...
    ("9 điểm phục vụ trong năm 2025")."""
    gap = doc.low[m.tail_end : p.start]
    return (
        len(gap) <= doc.lex.integer("windows.item")
        and _CLAUSE_MARK.search(gap) is None
        and doc.lex.pattern("period.after_item_lead").search(doc.low, m.tail_end, p.end) is not None
    )


def _closed_before(doc: Doc, p: PeriodMention, m: Mention) -> bool:
    """Whether `p` stands in brackets closed before the number: an aside ("tháng 11/2023
    (tính đến 21/11/2023): 67.060") that dates only what it holds when of one of
    `period.aside_kinds`, unless nothing else in the sentence dates the number."""
    return doc.low.count(")", p.end, m.start) > doc.low.count("(", p.end, m.start)


def is_flow(doc: Doc, m: Mention) -> bool:
    """Money and words like "doanh thu" accumulate over a span; other figures are stocks."""
    if m.unit in (Unit.VND, Unit.USD):
        return True
    return doc.lex.pattern("period.flow_words").search(doc.low, m.near, m.item_end) is not None


def resolve_said(doc: Doc, m: Mention) -> str | None:
    """The period written for a figure, resolved against the report's (None when none is)."""
    said = m.said_period
    if said is None:
        return None
    if said.kind == "year_to_date":
        return year_to_date(str(doc.period))
    if said.kind in ("last_years", "whole_span"):
        span = years_named_before(doc, said)
        return None if span is None else str(span)
    if said.kind == "now":
        now = now_period(doc.period, doc.published)
        return None if now is None else str(now)
    year = doc.period.year
    if said.kind == "this_year":
        # "vào cuối năm" under "Chỉ tiêu năm 2025" in a report on 2024: the plan's year
        future = doc.future_at(m.start)
        planned = Period.try_parse(future.period or "") if future is not None else None
        year = planned.end.year if planned is not None else year
    found = resolve_period(said, year, flow=is_flow(doc, m))
    if found is not None and said.kind == "horizon" and found.starts_after(doc.period):
        return str(Period.annual(found.year))  # the end of a later year: that year's target
    return None if found is None else str(found)


def years_named_before(doc: Doc, said: PeriodMention) -> Period | None:
    """ "Trong 3 năm", "cả giai đoạn": the latest span of years written before it (of that
    many years); "N năm" without one is the N years ending with the report's."""
    raw = said.group("n")
    n = int(raw) if raw and raw.isdigit() else 0
    j = bisect_left(doc.period_starts, said.start) - 1
    while j >= 0:
        p = doc.periods[j]
        span = resolve_period(p, doc.period.year, flow=True) if p.kind == "year_span" else None
        if span is not None and (not n or span.last.year - span.first.year + 1 == n):
            return span
        j -= 1
    last = doc.period.end.year
    return Period.years(last - n + 1, last) if 2 <= n <= _MOST_YEARS else None


def compared_basis(doc: Doc, done: list[Mention], m: Mention) -> str | None:
    """What the figure before `m` is compared with, when `m` is the level in brackets right
    after it: "cùng kỳ năm 2022" in "tăng 0,9% so với cùng kỳ năm 2022 (66.483 bưu gửi)"
    and in "đạt 45,6% (cùng kỳ năm 2022 là 38,2%)"."""
    if m.role is not Role.level or not done or done[-1].sentence != m.sentence:
        return None
    if doc.low.find("(", done[-1].end, m.start) < 0:
        return None  # (most figures: no bracket opens before them)
    lex = doc.lex
    found = lex.pattern("period.compared_bracket").search(doc.low, done[-1].end, m.start)
    found = found or lex.pattern("period.bracket_compared").search(doc.low, done[-1].end, m.start)
    return None if found is None else found.group("basis")
