"""Period: what time each figure refers to.

A change or ratio takes the period of its level. A level takes the period written for it,
else its plan section's, else its "trong đó" total's; a table column's header dates the
levels under it unless the cell names its own; the report's own period is the default.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.lexicon import Lexicon
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.periods import (
    PeriodMention,
    find_periods,
    previous_week,
    resolve,
    resolve_period,
)
from chiso_ingest.extraction.stages.links import compared_basis, is_flow, resolve_said
from chiso_ingest.extraction.stages.status import column_header
from chiso_shared.facts import Basis, Role, Status
from chiso_shared.periods import Period, PeriodError

# a day alone in a table's column header ("31/12/2024")
_HEADER_DAY = re.compile(r"\W*(?:ngày\s+)?(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>(?:19|20)\d\d)\W*")
# a year in a table's column header ("Kế hoạch 2024") dates the column
_HEADER_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# a row that is a year: its first cell is one ("2021", "Năm 2021")
_ROW_YEAR = re.compile(r"\W*(?:năm\s+)?(?P<y>(?:19|20)\d\d)\W*")
# periods that count the months so far, whose share of the year's plan they are
_SO_FAR_KINDS = frozenset({"cumulative", "first_months", "year_to_date"})
# how far before a figure the bracket it may stand in is looked for
_BRACKET_REACH = 120
# a basis that opens with a period ("năm 2016" after "gấp 1,6 lần")
_NAMES_PERIOD = re.compile(r"\s*(?:năm|tháng|quý)\s+\d")
# a heading's number ("3.", "II.", "B."), and any digit: a heading with a figure is a line
# of the report's list, no heading over a section
_HEADING_NUMBER = re.compile(r"^\s*(?:[a-e]|\d{1,2}(?:\.\d{1,2})*|[ivx]+)\.?\s+")
_DIGIT = re.compile(r"\d")
# how many lines above a figure the colon line that opens its list is looked for
_LIST_REACH = 12
_CELL_SPLIT = re.compile(r"\t|\||[ \u00a0]{2,}")


def read_period(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for m in mentions:
        if m.parent is not None:
            level = _compared_column(out, m, out[m.parent])
            out.append(m.evolve(period=level.period, period_default=level.period_default))
            continue
        period = (
            _compared_period(doc, out, m) or _opening_comparison(doc, m) or _own_period(doc, out, m)
        )
        default = period is None or _total_defaulted(out, m, period)
        out.append(m.evolve(period=period or str(doc.period), period_default=default))
    return _in_turn(doc, out) if doc.lex.pattern("period.in_turn").search(doc.low) else out


def _in_turn(doc: Doc, done: list[Mention]) -> list[Mention]:
    """ "lần lượt đạt 88%, 91% và 95% trong ba năm (2021–2023)": figures listed in turn over
    a span of as many years as there are figures take those years one by one (the span
    dates only the last, the one it is written after)."""
    out = list(done)
    by_sentence: dict[int, list[int]] = {}
    for k, m in enumerate(out):
        if m.role is Role.level and m.depth == 0:
            by_sentence.setdefault(m.sentence, []).append(k)
    for sentence, ks in by_sentence.items():
        start, _ = doc.sentence_bounds(sentence)
        turn = doc.lex.pattern("period.in_turn").search(doc.low, start, out[ks[-1]].start)
        listed = [k for k in ks if turn is not None and out[k].start > turn.end()]
        span = Period.try_parse(out[listed[-1]].period or "") if len(listed) > 1 else None
        if span is None or span.parts is None or span.first.frequency != "A":
            continue
        years = range(span.first.year, span.last.year + 1)
        if len(years) != len(listed):
            continue
        dated = {k: str(Period.annual(year)) for k, year in zip(listed, years, strict=True)}
        for k, m in enumerate(out):
            period = dated.get(k) or (dated.get(m.parent) if m.parent is not None else None)
            if period is not None:
                out[k] = m.evolve(period=period, period_default=False)
    return out


def _compared_column(done: list[Mention], m: Mention, level: Mention) -> Mention:
    """A table's change or ratio column compares the row's columns of other years ("Xếp
    hạng 2022 | Xếp hạng 2021 | Tăng/giảm bậc"): it is of the latest of them, whatever their
    order; a plan's column is what it is compared with, never what it qualifies."""
    if m.cell is None or level.cell is None:
        return level
    best, best_end = level, _end(level)
    if best_end is None:
        return level
    for prior in reversed(done):
        if prior.sentence != m.sentence:
            break
        if prior.role is not Role.level or prior.cell is None or prior.unit is not level.unit:
            continue
        end = _end(prior)
        if prior.status is not Status.target and end is not None and end > best_end:
            best, best_end = prior, end
    return best


def _end(m: Mention) -> date | None:
    period = Period.try_parse(m.period or "")
    return None if period is None else period.end


def _total_defaulted(done: list[Mention], m: Mention, period: str) -> bool:
    """A "trong đó" part dated only by its total, itself dated by nothing."""
    total = done[m.component] if m.component is not None else None
    return total is not None and total.period_default and total.period == period


def _compared_period(doc: Doc, done: list[Mention], m: Mention) -> str | None:
    """A level in brackets right after what the figure before it is compared with: "tăng
    0,9% so với cùng kỳ năm 2022 (66.483 bưu gửi)" is the compared period's figure."""
    level = _compared_level(doc, done, m)
    if level is not None:
        return level
    basis = compared_basis(doc, done, m)
    if basis is None and _same_bracket(doc, done, m):
        # "(hạng 43, 62,85 điểm)": the bracket's later figures are of its period too
        prior = done[-1]
        if len(done) > 1 and compared_basis(doc, done[:-1], prior) is not None:
            return prior.period
    own = Period.try_parse(done[-1].period or "") if basis is not None else None
    if basis is None or own is None:
        return None
    try:
        period = _basis_period(doc, basis, own, flow=is_flow(doc, m))
    except PeriodError:
        return None
    return None if period is None else str(period)


def _compared_level(doc: Doc, done: list[Mention], m: Mention) -> str | None:
    """ "tăng nhẹ so với con số 62.423 đồng", "so với mức 27,02 điểm": the figure compared
    with, of the period before the one of the figure before it, unless a period is written
    for it ("so với mức 64,91 điểm của năm 2022")."""
    if m.role is not Role.level or not done:
        return None
    prior = done[-1]
    if prior.sentence != m.sentence or (m.said_period and m.said_period.start > prior.end):
        return None
    if doc.lex.pattern("period.compared_level").search(doc.low, prior.end, m.start) is None:
        return None
    own = Period.try_parse(prior.period or "")
    if own is None:
        return None
    try:
        return str(own.previous())
    except PeriodError:
        return str(own.in_year(own.start.year - 1))


def _same_bracket(doc: Doc, done: list[Mention], m: Mention) -> bool:
    """`m` stands in the brackets the figure before it stands in."""
    if m.role is not Role.level or not done or done[-1].sentence != m.sentence:
        return False
    between = doc.low[done[-1].end : m.start]
    opened = doc.low.rfind("(", max(0, done[-1].start - _BRACKET_REACH), done[-1].start)
    return (
        "(" not in between
        and ")" not in between
        and opened >= 0
        and ")" not in doc.low[opened : done[-1].start]
    )


def _opening_comparison(doc: Doc, m: Mention) -> str | None:
    """Figures in brackets after a sentence's opening comparison ("So với năm 2022 (hạng 5,
    68,20 điểm), ...") are the compared period's."""
    if m.depth == 0 or m.role is not Role.level:
        return None
    start, _ = doc.sentence_bounds(m.sentence)
    found = doc.lex.pattern("period.opening_comparison").match(doc.low, start, m.start)
    if found is None:
        return None
    try:
        period = _basis_period(doc, found.group("basis"), doc.period, flow=is_flow(doc, m))
    except PeriodError:
        return None
    return None if period is None else str(period)


def _basis_period(doc: Doc, basis: str, own: Period, *, flow: bool) -> Period | None:
    """The period `basis` names, for a figure of period `own`: the same period of another
    year ("cùng kỳ năm 2022"), a plan's year ("kế hoạch năm"), the period before ("tháng
    trước"), or one written out ("tháng 9/2022", "DTI 2021")."""
    lex = doc.lex
    if lex.pattern("period.plan_basis").search(basis):
        plan_year = Period.annual(own.end.year) if "năm" in basis else own
        return _written_period(doc, basis, own, flow=flow) or plan_year
    same = lex.pattern("period.same_period").search(basis)
    if same is not None:
        year = int(same.group("y")) if same.group("y") else own.start.year - 1
        return own.in_year(year)
    before = lex.pattern("period.previous_period").search(basis)
    if before is not None:
        if before.group("unit") == "tuần":
            return previous_week(own)
        return own.in_year(own.start.year - 1) if before.group("unit") == "năm" else own.previous()
    return _written_period(doc, basis, own, flow=flow)


def _written_period(doc: Doc, basis: str, own: Period, *, flow: bool) -> Period | None:
    """The first period written out in `basis`, in the year of `own` when it names none
    (looked for only where a period word stands: most bases name none)."""
    if not doc.lex.pattern("period.may_name").search(basis):
        return None
    year = own.end.year - (1 if doc.lex.pattern("period.last_year").search(basis) else 0)
    for mention in find_periods(basis, doc.lex, [(0, len(basis))]):
        found = resolve_period(mention, year, flow=flow)
        if found is not None:
            return found
    return None


def _own_period(doc: Doc, done: list[Mention], m: Mention) -> str | None:
    period = resolve_said(doc, m)
    future = doc.future_at(m.start)
    if period is None and future is not None:
        period = future.period
    if period is None and m.component is not None:
        period = done[m.component].period
    if period is None:
        period = _continued(doc, done, m)
    if period is None:
        period = _paragraph_lead(doc, m) or _list_lead(doc, m) or _heading_period(doc, m)
    header = column_header(doc, m)
    if header is not None and not _said_in_row(doc, m):
        period = (
            _same_period_column(doc, done, m, header)
            or _header_period(doc, header, flow=is_flow(doc, m))
            or _row_year(doc, m)
            or _caption_period(doc, m)
            or period
        )
    return period


def _same_period_column(doc: Doc, done: list[Mention], m: Mention, header: str) -> str | None:
    """A column of the same period a year before ("Cùng kỳ", "Cùng kỳ năm 2023", "CK năm
    trước") beside the figures it is compared with: the period of the row's figure before it
    (else the report's) in that year."""
    same = doc.lex.pattern("table.same_period_header").search(header)
    if same is None or m.cell is None:
        return None
    own = doc.period
    for prior in reversed(done):
        if prior.sentence != m.sentence or prior.cell is None:
            break
        if prior.role is Role.level and prior.cell.column < m.cell.column:
            own = Period.try_parse(prior.period or "") or own
            break
    year = int(same.group("y")) if same.group("y") else own.start.year - 1
    try:
        return str(own.in_year(year))
    except PeriodError:
        return None


def _caption_period(doc: Doc, m: Mention) -> str | None:
    """A table's caption that names a period ("Bảng 3. Số trạm BTS đến ngày 31/12/2021"):
    the period of its cells whose column and row name none."""
    if m.cell is None or m.cell.table <= 0:
        return None
    found = _caption_periods(doc.low, m.cell.table, doc.lex)
    return resolve(found[-1], doc.period.year, flow=is_flow(doc, m)) if found else None


_CAPTION_LINE = 200  # a longer line above a table is a paragraph, not its caption


@lru_cache(maxsize=16)
def _caption_periods(low: str, start: int, lex: Lexicon) -> tuple[PeriodMention, ...]:
    """The periods of the two lines above a table (read once per table: a caption's date
    need not stand in a sentence with a figure, so the document's periods may lack it); a
    paragraph of prose there is no caption."""
    above = low.rfind("\n", 0, max(0, low.rfind("\n", 0, start - 1)))
    spans: list[tuple[int, int]] = []
    a = above + 1
    while a < start:
        b = low.find("\n", a, start)
        b = start if b < 0 else b
        if b - a <= _CAPTION_LINE:
            spans.append((a, b))
        a = b + 1
    return tuple(find_periods(low, lex, spans)) if spans else ()


def _row_year(doc: Doc, m: Mention) -> str | None:
    """A table whose rows are years ("Năm | Điểm | Hạng" over "2021 | 0,3862 | 40"): the
    row's first cell dates its figures."""
    if m.cell is None or m.cell.column == 0:
        return None
    row = doc.low.rfind("\n", 0, m.cell.start) + 1
    first = _CELL_SPLIT.split(doc.low[row : m.cell.start], maxsplit=1)[0]
    found = _ROW_YEAR.fullmatch(first)
    return found.group("y") if found else None


def _continued(doc: Doc, done: list[Mention], m: Mention) -> str | None:
    """A sentence that opens with "Riêng" ("Riêng huyện A có 7.100 thuê bao") singles out a
    part of what the sentence before it counted: it keeps that sentence's written period."""
    start, _ = doc.sentence_bounds(m.sentence)
    if not doc.lex.pattern("period.continues").match(doc.low, start):
        return None
    before = [d for d in done if d.sentence == m.sentence - 1 and d.role is Role.level]
    first = before[0] if before else None
    if first is None or first.said_period is None or first.period_default:
        return None
    return first.period


def _said_in_row(doc: Doc, m: Mention) -> bool:
    """A period written in the cell's own row ("Doanh thu năm 2023 | ...") beats its column's
    header; one above the row (the header row itself, a title) does not."""
    said = m.said_period
    return said is not None and said.start > doc.low.rfind("\n", 0, m.start)


def _paragraph_lead(doc: Doc, m: Mention) -> str | None:
    """The period that opens the paragraph as its time ("Trong năm 2023, ...", comma and
    all) dates the later sentences of that paragraph that name none, within
    `windows.paragraph` (a web page's one-line article is no paragraph)."""
    para = doc.low.rfind("\n", 0, m.start) + 1
    lead = para + doc.lex.integer("windows.paragraph_lead")
    i = bisect_left(doc.period_starts, para)
    if i == len(doc.periods) or doc.periods[i].start >= min(lead, m.near):
        return None
    p = doc.periods[i]
    if (
        p.kind not in doc.lex.words("period.lead_kinds")
        or not doc.low.startswith(",", p.end)
        or m.start - para > doc.lex.integer("windows.paragraph")
    ):
        return None
    return resolve(p, doc.period.year, flow=is_flow(doc, m))


def _heading_period(doc: Doc, m: Mention) -> str | None:
    """The period the heading over a figure names, when that heading holds no figure of its
    own ("3. Chỉ số DTI năm 2024 của các tỉnh trước hợp nhất" in a report on nine months of
    2025): the section's figures that name none are of it."""
    i = bisect_left(doc.heading_starts, m.start) - 1
    if i < 0 or doc.future_at(m.start) is not None:
        return None
    heading = doc.headings[i]
    j = bisect_left(doc.period_starts, heading.start)
    if j == len(doc.periods) or doc.periods[j].end > heading.end:
        return None
    p = doc.periods[j]
    words = _HEADING_NUMBER.sub("", doc.low[heading.start : p.start]) + doc.low[p.end : heading.end]
    if p.kind not in doc.lex.words("period.lead_kinds") or _DIGIT.search(words):
        return None
    return resolve(p, doc.period.year, flow=is_flow(doc, m))


def _list_lead(doc: Doc, m: Mention) -> str | None:
    """A line that ends with a colon and names a period ("Một số huyện (tháng 9/2021):",
    "Nhiệm vụ năm 2025:") dates the lines of the list under it that name none."""
    low = doc.low
    line = low.rfind("\n", 0, m.start)
    for _ in range(_LIST_REACH):
        if line <= 0:
            return None
        above = low.rfind("\n", 0, line) + 1
        text = low[above:line].rstrip()
        if not text:
            return None  # a blank line ends the list
        if text.endswith(":"):
            i = bisect_left(doc.period_starts, above)
            if i < len(doc.periods) and doc.periods[i].end <= line:
                p = doc.periods[i]
                if p.kind in doc.lex.words("period.lead_kinds"):
                    return resolve(p, doc.period.year, flow=is_flow(doc, m))
            return None
        line = above - 1
    return None


def _header_period(doc: Doc, header: str, *, flow: bool) -> str | None:
    for mention in find_periods(header, doc.lex, [(0, len(header))]):
        period = resolve(mention, doc.period.year, flow=flow)
        if period is not None:
            return period
    day = _HEADER_DAY.fullmatch(header)  # "31/12/2024": a stock counted on that day
    if day is not None:
        try:
            return str(Period.day(int(day["y"]), int(day["m"]), int(day["d"])))
        except PeriodError:
            return None
    years = set(_HEADER_YEAR.findall(header))
    return years.pop() if len(years) == 1 else None


def read_basis_period(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    """GUIDELINE §5: a comparison with the period just before (or the same period a year
    earlier) is `previous_period`, with another named period `other`, whatever the words
    first suggested ("tăng 0,2511 điểm so với năm 2020" of a 2022 figure is other; "so với
    thời điểm hết tháng 3" of an April figure is the previous period)."""
    out: list[Mention] = []
    for m in mentions:
        if m.basis in (Basis.previous_period, Basis.other) and m.period is not None:
            compared = _named_basis(doc, m)
            if compared is not None:
                m = m.evolve(basis=_basis_of(compared, Period.parse(m.period)) or m.basis)
        if m.basis is Basis.previous_period and (
            _gap_to_an_average(doc, out, m) or _over_years(doc, m)
        ):
            m = m.evolve(basis=Basis.other)
        if m.basis is Basis.plan and m.status is Status.target:
            m = _share_of_the_years_plan(doc, m)
        out.append(m)
    return out


def _share_of_the_years_plan(doc: Doc, m: Mention) -> Mention:
    """A goal to reach a share of the year's plan ("phấn đấu quý IV hoàn thành 100% chỉ
    tiêu kế hoạch năm"): of that year, not of the quarter the section plans."""
    plan = doc.lex.pattern("period.years_plan").match(doc.low, m.unit_end, m.unit_end + 60)
    said = m.said_period.kind if m.said_period is not None else None
    if plan is None or said in _SO_FAR_KINDS:
        return m  # "lũy kế 6 tháng đạt 50% kế hoạch năm": the months so far, of the plan
    own = Period.try_parse(m.period or "")
    year = int(plan.group("y")) if plan.group("y") else own.end.year if own else None
    return m if year is None else m.evolve(period=str(Period.annual(year)))


def _over_years(doc: Doc, m: Mention) -> bool:
    """A change said over several years ("tăng hơn 7% sau 5 năm")."""
    return m.role is Role.change and bool(
        doc.lex.pattern("period.over_years").match(doc.low, m.unit_end, m.unit_end + 40)
    )


def _gap_to_an_average(doc: Doc, done: list[Mention], m: Mention) -> bool:
    """ "Điểm trung bình của cả nước là 0,5114, điểm của tỉnh cao hơn 0,1698", "vượt bình
    quân cả nước, cao hơn 0,06 điểm": a gap to the national average named before it, not a
    change over time."""
    lex = doc.lex
    if m.tail_end > m.item_end or not lex.pattern("basis.comparative").search(
        doc.low, m.seg_start, m.start
    ):
        return False
    average = lex.pattern("basis.average_of_all")
    sentence = doc.sentence_starts[m.sentence]
    if average.search(doc.low, sentence, m.start) is not None:
        return True
    level = done[m.parent] if m.parent is not None else None
    return level is not None and average.search(doc.low, level.seg_start, level.start) is not None


def _named_basis(doc: Doc, m: Mention) -> Period | None:
    """The period the basis of `m` names, written after it ("so với năm 2020") or before
    it in its clause ("So với năm 2020, tỉnh đã tăng 9 bậc")."""
    after = doc.low[m.unit_end : max(m.unit_end, m.tail_end)]
    window = after or doc.low[m.seg_start : m.start]
    found = doc.lex.pattern("period.compared_with").search(window)
    if found is None:  # "So với năm 2022, số doanh nghiệp ... tăng 6.300"
        start, _ = doc.sentence_bounds(m.sentence)
        found = doc.lex.pattern("period.opening_basis").match(doc.low, start, m.start)
    own = Period.try_parse(m.period or "")
    # "gấp 1,6 lần năm 2016": after a multiple, the period itself
    basis = found.group("basis") if found else after if _NAMES_PERIOD.match(after) else None
    if basis is None or own is None:
        return None
    try:
        return _basis_period(doc, basis, own, flow=is_flow(doc, m))
    except PeriodError:
        return None


def _basis_of(compared: Period, own: Period) -> Basis | None:
    if compared == own:
        return None  # the basis named nothing of its own
    before: set[Period] = set()
    for step in (own.previous, lambda: own.in_year(own.start.year - 1)):
        try:
            before.add(step())
        except PeriodError:
            continue  # a span of months has no period just before it, only last year's
    if not before:
        return None
    # the period before, or its end ("so với cuối năm 2023" of a stock counted in 2024)
    if any(b.contains(compared) and compared.end == b.end for b in before):
        return Basis.previous_period
    # the end of last year ("so với cuối năm 2022" of a stock counted in November 2023):
    # the last count before the year's, as "so với cùng kỳ" is
    if compared.end == date(own.start.year - 1, 12, 31) and compared.start.month == 12:
        return Basis.previous_period
    return Basis.other if compared < own or compared.end < own.end else None
