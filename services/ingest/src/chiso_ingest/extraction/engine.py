"""The extraction pipeline: find numbers, read them, then give each its context."""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from chiso_ingest.extraction.indicators import PhraseIndex, PhraseMatch, normalise
from chiso_ingest.extraction.lexicon import Lexicon, lexicon
from chiso_ingest.extraction.numbers import parse_number, reread_as_decimal
from chiso_ingest.extraction.periods import (
    DocPeriod,
    PeriodMention,
    document_period,
    find_periods,
    resolve,
    year_to_date,
)
from chiso_ingest.extraction.scope import area_code, document_scope, province_in
from chiso_ingest.extraction.tables import Cell, Tables, find_tables
from chiso_shared.catalogue import code_list_on, indicators
from chiso_shared.facts import Basis, Fact, Role, Status, Unit, period_end

_SENTENCE_BREAK = re.compile(r"\n+|[.!?…]+(?:\s+|(?=[^\W\d_]))")
_WORD = re.compile(r"[^\W\d_][\w/&.-]*")
_SEMICOLON = re.compile(r";")
_PLAIN_INT = re.compile(r"\d{1,2}")
_YEAR_LIKE = re.compile(r"(?:19|20)\d\d")
_CLAUSE_END = re.compile(r"[;.!?\n]")
_TRAILING_GAP = re.compile(r"\s*\(?\s*")
# "(năm 2023: 2.100 tỷ đồng)": the period labels the figure after it
_NAMES_NEXT = re.compile(r"\s*:\s*\d")
_TOP_HEADING = re.compile(r"(?m)^[ \t]*(?:\d{1,2}|[IVX]{1,4})\.[ \t]+([^\n\d]{2,80})$")
_HEADING = re.compile(
    r"(?m)^[ \t]*(?P<number>(?:PHẦN|Phần|CHƯƠNG|Chương)[ \t]+(?:[IVXLC]+|\d+)\.?"
    r"|\d+(?:\.\d+)*\.?|[IVX]+\.)[ \t]+[^\n]{0,120}$"
)
# a line break, then what starts the next line
_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*(?P<next>\S?)")
_MAX_WINDOW = 90
_BRACKETED = re.compile(r"\(([^()]{1,40})\)")
# a year in a table's column header ("Kế hoạch 2024") dates the column
_HEADER_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_LEFT_WINDOW = 36
_MIN_YEAR, _MAX_YEAR = 1950, 2100
_EST_WINDOW = 40
_TARGET_WINDOW = 160
_SPAN_REACH = 40
# cue words that decide a number's fate sit within this many characters before it
_CUE_REACH = 24
# how far back a sentence's context is read: long run-on sentences stay linear
_REACH = 400
# longer digit runs are identifiers or noise, never a reported figure
_MAX_DIGITS = 24
# "mức 2", "cấp 3": small numbers after these words name a tier
_MAX_LEVEL_NAME = 5
_RATE_REACH = 12
_HEAD_WORDS = 2
# "79,1 người dân": a fraction of people is a share whose % sign went missing
_PERCENT_MAX = 100.0
_TRIM_REACH = 40
_FOOTNOTE_END = (";", ",", ".", "")
_THIN_LABEL = 2
# a named commune or a "trong đó" that governs a number is written close before it
_SUB_REACH = 160
# the field limits of `Fact`
_MAX_DOC_NAME, _MAX_TEXT, _MAX_ITEM, _MAX_LABEL = 512, 200, 500, 2000
# a count's own item ("100 địa chỉ số") names its metric more surely than distant words
_ADJACENT = 2
_ITEM_BONUS = 30.0


@dataclass(slots=True)
class Cand:
    start: int
    end: int
    value: float
    unit: Unit
    of: float | None = None
    max: float | None = None
    item: str | None = None
    unit_end: int = 0
    item_end: int = 0
    tail_end: int = 0
    role: Role = Role.level
    basis: Basis | None = None
    rank: bool = False
    sentence: int = 0
    status: Status = Status.actual
    period: str | None = None
    indicator: str | None = None
    scope: str | None = None
    label: str | None = None
    cell: Cell | None = None  # the table cell it stands in, if any


@dataclass(slots=True)
class Doc:
    text: str
    low: str
    lex: Lexicon
    sent_starts: list[int]
    semicolons: list[int]
    scope: str | None
    future: list[Future]
    scope_hint: str | None = None
    code_list: str = "2004"  # the province code list in force when the report's period ends
    topics: list[tuple[int, str]] = field(default_factory=list)
    periods: list[PeriodMention] = field(default_factory=list)
    period_starts: list[int] = field(default_factory=list)
    # set by `_add_context` once the numbers are known; a document without one has no facts
    doc_period: DocPeriod = DocPeriod("2000", 2000)
    phrases: PhraseIndex | None = None
    tables: Tables = field(default_factory=lambda: Tables((), ()))

    def sentence_of(self, pos: int) -> int:
        return bisect_right(self.sent_starts, pos) - 1

    def sentence_bounds(self, index: int) -> tuple[int, int]:
        start = self.sent_starts[index]
        end = self.sent_starts[index + 1] if index + 1 < len(self.sent_starts) else len(self.text)
        return start, end

    def near_start(self, pos: int) -> int:
        """Where the sentence holding `pos` starts, looking back at most `_REACH`."""
        return max(self.sent_starts[self.sentence_of(pos)], pos - _REACH)

    def clause_start(self, pos: int) -> int:
        i = bisect_left(self.semicolons, pos) - 1
        sent = self.near_start(pos)
        return max(sent, self.semicolons[i] + 1) if i >= 0 else sent


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _is_break(text: str, m: re.Match[str]) -> bool:
    """A full stop before a space, or a line end that is not a wrapped line."""
    if m.group()[0] != "\n":
        return m.group()[-1].isspace()
    before = text[max(0, m.start() - 1) : m.start()]
    return not (before.isalnum() or before == ",") or not text[m.end()].isalpha()


def _sentence_starts(text: str) -> list[int]:
    starts = [0]
    for m in _SENTENCE_BREAK.finditer(text):
        end = m.end()
        if end < len(text) and not text[end].isupper() and not _is_break(text, m):
            continue
        starts.append(end)
    return starts


def _excluded(doc: Doc, start: int, end: int) -> bool:
    """The number lies in a name, code or clock time (`exclude.spans`)."""
    a, b = max(0, start - _SPAN_REACH), min(len(doc.low), end + _SPAN_REACH)
    for m in doc.lex.pattern("exclude.spans").finditer(doc.low, a, b):
        if m.start() < end and start < m.end():
            return True
    return False


@dataclass(slots=True)
class Future:
    """A section headed as plans for the coming period ("Nhiệm vụ ... thời gian tới")."""

    heading: tuple[int, int]
    start: int
    end: int
    period: str | None = None


def _future_regions(text: str, low: str, lex: Lexicon) -> list[Future]:
    """Plan sections: from a plan heading to the next heading of its rank or above, so that
    "II. PHƯƠNG HƯỚNG ... NĂM 2025" covers its "1. Chỉ tiêu chủ yếu" and "2. ..." too."""
    headings = [(m.span(), _heading_rank(m.group("number"))) for m in _HEADING.finditer(text)]
    regions: list[Future] = []
    for i, ((a, b), rank) in enumerate(headings):
        if lex.pattern("status.future_heading").search(low, a, b):
            later = (start for (start, _), r in headings[i + 1 :] if r <= rank)
            regions.append(Future((a, b), b, next(later, len(text))))
    return regions


def _heading_rank(number: str) -> int:
    """0 for "PHẦN II", 1 for "II.", 2 for "1.", 3 for "1.2." and so on."""
    if number[0].isdigit():
        return 1 + len(number.rstrip(".").split("."))
    return 1 if number[0] in "IVX" else 0


def _next_period(period: str) -> str | None:
    """The period after a report's own: the plans of an annual report are for next year."""
    year = int(period[:4])
    if period.isdigit():
        return str(year + 1)
    if len(period) == 7 and period[5:].isdigit():
        month = int(period[5:])
        return f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    return {"S1": f"{year}-S2", "S2": f"{year + 1}-S1"}.get(period[5:])


def _resolve_futures(doc: Doc) -> None:
    """Give each plan section its period; drop sections headed by the reported period
    itself ("I. Kết quả thực hiện nhiệm vụ năm 2023" in a report on 2023)."""
    kept: list[Future] = []
    for future in doc.future:
        found = find_periods(doc.low, doc.lex, [future.heading])
        explicit = next(
            (p for f in found if (p := resolve(f, doc.doc_period.year, flow=True))), None
        )
        if explicit is not None and not _later(explicit, doc.doc_period.period):
            continue
        future.period = explicit or _next_period(doc.doc_period.period)
        kept.append(future)
    doc.future = kept


def _later(period: str, than: str) -> bool:
    """Whether `period` starts after `than` ends (both in the period grammar)."""
    start, end = period.split("/")[0], than.split("/")[-1]
    if start[:4] != end[:4]:
        return start[:4] > end[:4]
    order = {"": 0, "S1": 6, "S2": 12, "Q1": 3, "Q2": 6, "Q3": 9, "Q4": 12}
    a = order.get(start[5:], int(start[5:7]) if start[5:7].isdigit() else 0)
    b = order.get(end[5:], int(end[5:7]) if end[5:7].isdigit() else 12)
    return a > b


def _prepare(text: str, lex: Lexicon, scope: str | None) -> Doc:
    low = _lower(text)
    return Doc(
        text=text,
        low=low,
        lex=lex,
        sent_starts=_sentence_starts(text),
        semicolons=[m.start() for m in _SEMICOLON.finditer(text)],
        scope=document_scope(text, low, lex, scope),
        scope_hint=scope,
        future=_future_regions(text, low, lex),
        topics=[(m.start(), m.group(1).strip()) for m in _TOP_HEADING.finditer(low)],
        tables=find_tables(
            low, lex.pattern("table.unit_header"), lex.pattern("table.unit_caption")
        ),
    )


def _add_context(doc: Doc, cands: list[Cand], published: str | None) -> bool:
    """Periods and phrasings, searched only in the title and the sentences with numbers."""
    regions = _regions(doc, cands)
    title = (0, min(len(doc.text), doc.lex.integer("document.title_window")))
    doc.periods = find_periods(doc.low, doc.lex, _merge([title, *regions]))
    doc.period_starts = [p.start for p in doc.periods]
    doc_period = document_period(doc.low, doc.lex, doc.periods, published)
    if doc_period is None:
        return False
    doc.doc_period = doc_period
    _use_code_list_of_period(doc)
    _resolve_futures(doc)
    doc.phrases = PhraseIndex(doc.low, " ".join(doc.lex.words("indicator.light_words")), regions)
    return True


def _use_code_list_of_period(doc: Doc) -> None:
    """A report on a period ending after the 2025 merger names the 34 provinces of QĐ 19/2025."""
    try:
        ends = date.fromisoformat(period_end(doc.doc_period.period))
    except ValueError:
        return
    doc.code_list = code_list_on(ends)
    if doc.code_list != "2004":
        doc.scope = document_scope(doc.text, doc.low, doc.lex, doc.scope_hint, doc.code_list)


def _merge(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(regions):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


# -- reading one number ---------------------------------------------------------------


def _is_section_number(doc: Doc, start: int, end: int) -> bool:
    line = doc.low.rfind("\n", 0, start) + 1
    prefix = doc.low[line:start]
    if prefix.strip(" \t-–•*+"):
        return False
    return (
        doc.low[end : end + 2] in {". ", ".\t", ") "}
        or doc.low[end : end + 1] in {".", ")"}
        and (end + 1 >= len(doc.low) or doc.low[end + 1] in " \t\n")
    )


def _is_date_pair(num: str, den: str, right: str) -> bool:
    if _PLAIN_INT.fullmatch(num) and _YEAR_LIKE.fullmatch(den):
        return 1 <= int(num) <= 12
    if not (_PLAIN_INT.fullmatch(num) and _PLAIN_INT.fullmatch(den)):
        return False
    day, month = int(num), int(den)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    return day > month or not _WORD.match(right.lstrip())


def _rank_context(doc: Doc, start: int, left: str, right: str, has_den: bool) -> bool | None:
    """True for a rank, None when "thứ N" is a name ("lần thứ 2"), False when no ordinal."""
    lex = doc.lex
    if not lex.pattern("rank.ordinal").search(left):
        return False
    sent_start = doc.near_start(start)
    if (
        has_den
        or lex.pattern("rank.cue").search(doc.low, sent_start, start)
        or lex.pattern("rank.place_right").match(right)
    ):
        return True
    return None


def _this_line(text: str, end: int, right: str) -> str:
    """`right`, the text after a number ending at `end`, cut at a line break when the next
    line starts something new: a capital, a bullet or a digit begins a table's next row or a
    new sentence ("1.150⏎Tỷ lệ hồ sơ ..." is no billion), while a line that goes on in lower
    case is the same sentence wrapped (its unit may be there)."""
    m = _LINE_BREAK.match(right)
    if m is None:
        return right
    first = text[end + m.start("next") : end + m.end("next")]
    return right if first.islower() else right[: m.start()]


def _item(doc: Doc, pos: int) -> tuple[str | None, int]:
    """What a count counts: the words after it, up to a stop word or punctuation."""
    lex = doc.lex
    window = _this_line(doc.text, pos, doc.text[pos : pos + _MAX_WINDOW])
    stop = lex.pattern("item.stop").search(window.lower())
    span = window[: stop.start()] if stop else window
    words = span.split()[: lex.integer("item.max_words")]
    if not words:
        return None, pos
    phrase = " ".join(words).strip(" *_\"'“”")
    end = pos + window.find(words[-1]) + len(words[-1])
    return (phrase or None), end


def _scale(lex: Lexicon, right: str) -> tuple[float, int]:
    m = lex.pattern("scale.start").match(right)
    if not m:
        return 1.0, 0
    word = " ".join(m.group().split())
    for rule in lex.rules("scale.words"):
        if rule.pattern.match(word):
            return rule.number("factor"), m.end()
    return 1.0, 0


def _unit(lex: Lexicon, rest: str) -> tuple[Unit | None, float, int]:
    for rule in lex.rules("units.ordered"):
        m = rule.pattern.match(rest)
        if m:
            return Unit(rule.text("unit")), rule.number("factor", 1.0), m.end()
    return None, 1.0, 0


def _basis(lex: Lexicon, rest: str) -> tuple[Basis | None, int]:
    for rule in lex.rules("basis.ordered"):
        m = rule.pattern.match(rest)
        if m and m.end() > 0:
            if lex.pattern("basis.target_value_follows").match(rest[m.end() :]):
                return None, 0
            return Basis(rule.text("basis")), m.end()
    return None, 0


def _plausible(value: float, unit: Unit, raw: str, scaled: bool) -> float:
    limits = {Unit.percent: 1000.0, Unit.Mbps: 10000.0, Unit.per_100_people: 300.0}
    limit = limits.get(unit)
    if limit is not None and value > limit and not scaled:
        alt = reread_as_decimal(raw)
        if alt is not None:
            return alt
    return value


def _role(
    doc: Doc, left: str, after: str, unit: Unit, basis: Basis | None
) -> tuple[Role, Basis | None, float]:
    lex = doc.lex
    change_up, change_down = lex.pattern("role.change_up"), lex.pattern("role.change_down")
    hedge = lex.pattern("role.hedge").search(left, max(0, len(left) - _CUE_REACH))
    core = left[: hedge.start()] if hedge else left
    if lex.pattern("role.level_after_change").search(core):
        return Role.level, None, 1.0
    if lex.pattern("role.multiple_unit").match(after) and (
        basis or lex.pattern("role.multiple").search(core)
    ):
        return Role.ratio, basis or Basis.previous_period, 1.0
    if left.endswith("+"):
        return Role.change, basis or Basis.previous_period, 1.0
    if left.endswith(("-", "−")):  # a minus sign: the candidate pattern lets only a sign by
        return Role.change, basis or Basis.previous_period, -1.0
    for rule in lex.rules("basis.before"):
        written = rule.pattern.search(core)
        verb = core[: written.start()].rstrip() if written else ""
        if written and basis is None and (change_up.search(verb) or change_down.search(verb)):
            basis, core = Basis(rule.text("basis")), verb
            break
    up = change_up.search(left) or change_up.search(core)
    down = change_down.search(left) or change_down.search(core)
    if up or down:
        default = (
            Basis.plan if up and up.group().lstrip().startswith("vượt") else Basis.previous_period
        )
        return Role.change, basis or default, (-1.0 if down else 1.0)
    if basis is not None and unit is Unit.percent:
        return Role.ratio, basis, 1.0
    return Role.level, None, 1.0


def _read(doc: Doc, m: re.Match[str]) -> Cand | None:
    """One number, read with its scale, unit, item and role; None when it is no fact."""
    lex, low = doc.lex, doc.low
    start, end = m.span()
    if _is_section_number(doc, start, end) or _excluded(doc, start, end):
        return None
    sent_start = doc.sent_starts[doc.sentence_of(start)]
    left = low[max(sent_start, start - _LEFT_WINDOW) : start]
    right = _this_line(doc.text, end, low[end : end + 120])
    num, den, hi = m.group("num"), m.group("den"), m.group("hi")
    rank = _rank_context(doc, start, left, right, den is not None)
    if rank is None or _is_identifier(doc, left, right, num, den, rank):
        return None
    cell = doc.tables.cell_at(start)
    if cell is not None and (
        cell.numbering or lex.pattern("table.index_header").fullmatch(cell.header)
    ):
        return None
    factor, scale_len = _scale(lex, right)
    value = parse_number(num, scale_follows=scale_len > 0) if len(num) <= _MAX_DIGITS else None
    unit, unit_factor, unit_len = _unit(lex, right[scale_len:])
    if unit is None and scale_len == 0 and cell is not None:
        factor, unit, unit_factor = _cell_unit(doc, cell)
    if value is None or _measures_nothing(doc, m, value, unit, scale_len, left, right):
        return None
    cand = Cand(start=start, end=end, value=value, unit=unit or Unit.count, rank=rank, cell=cell)
    if rank and unit is None:
        cand.unit = Unit.rank
    pos = end + scale_len + unit_len
    cand.unit_end = cand.item_end = pos
    if unit is None:
        _read_item(doc, cand, pos, scaled=scale_len > 0)
    raw_value = _plausible(value, cand.unit, num, scale_len > 0)
    cand.value = _tidy(raw_value * factor * unit_factor)
    cand.of = parse_number(den) if den is not None else None
    if hi is not None:
        top = parse_number(hi, scale_follows=scale_len > 0)
        cand.max = (
            _tidy(top * factor * unit_factor) if top is not None and top > raw_value else None
        )
    rest = _this_line(doc.text, cand.item_end, low[cand.item_end : cand.item_end + 90])
    basis, basis_len = _basis(lex, rest)
    if basis is None and lex.pattern("role.multiple_unit").match(right[scale_len:]):
        compared = lex.pattern("basis.after_multiple").match(rest)
        basis, basis_len = (Basis.previous_period, compared.end()) if compared else (None, 0)
        other = None if compared else lex.pattern("basis.after_multiple_other").match(rest)
        if other is not None:
            basis, basis_len = Basis.other, other.end()
    cand.tail_end = cand.item_end + basis_len
    cand.role, cand.basis, sign = _role(doc, left, right[scale_len:], cand.unit, basis)
    cand.value *= sign
    if cell is not None and cand.role is Role.level:
        _column_role(lex, cand, cell.header, bracketed=low[start - 1 : end + 1] == f"({num})")
    cand.sentence = doc.sentence_of(start)
    return cand


def _cell_unit(doc: Doc, cell: Cell) -> tuple[float, Unit | None, float]:
    """A bare number in a table takes its column header's "(%)", its row's unit column
    ("tỷ đồng", "%") or its row label's "(%)": scale factor, unit and unit factor."""
    lex = doc.lex
    if cell.header and lex.pattern("table.percent_header").search(cell.header):
        return 1.0, Unit.percent, 1.0
    label = doc.low[slice(*cell.row_label)] if cell.row_label else ""
    if (found := _unit_words(lex, cell.row_unit)) is not None:
        return found
    for words in (_bracketed(cell.header), _bracketed(label)):
        found = _unit_words(lex, words)
        # "(điểm)" after "Số điểm phục vụ" names what is counted, not a score
        if found is not None and found[1] is not Unit.other:
            return found
    if label and lex.pattern("table.percent_header").search(label):
        return 1.0, Unit.percent, 1.0
    return _unit_words(lex, cell.caption_unit) or (1.0, None, 1.0)


def _bracketed(text: str) -> str:
    """The last "(...)" of a header or label: "Doanh thu (tỷ đồng)" gives "tỷ đồng"."""
    found = _BRACKETED.findall(text)
    return found[-1] if found else ""


def _unit_words(lex: Lexicon, words: str) -> tuple[float, Unit | None, float] | None:
    """The scale and unit that `words` ("tỷ đồng", "%", "nghìn bưu gửi") give a bare number."""
    if not words:
        return None
    text = " " + words
    factor, scale_len = _scale(lex, text)
    unit, unit_factor, _ = _unit(lex, text[scale_len:])
    return (factor, unit, unit_factor) if scale_len or unit is not None else None


def _column_role(lex: Lexicon, cand: Cand, header: str, *, bracketed: bool) -> None:
    """A cell under "Tăng/giảm" is a change (negative when written in brackets, "(270)");
    a percentage under "So với cùng kỳ (%)" or "TH/KH (%)" is a ratio, against the plan when
    the header names one."""
    basis = Basis.plan if lex.pattern("table.plan_header").search(header) else Basis.previous_period
    if lex.pattern("table.change_header").search(header):
        cand.role, cand.basis = Role.change, basis
        if bracketed:
            cand.value = -abs(cand.value)
    elif cand.unit is Unit.percent and lex.pattern("table.ratio_header").search(header):
        cand.role, cand.basis = Role.ratio, basis


def _tidy(value: float) -> float:
    """`value` without binary noise: 1.098,6 tỷ is 1098600000000, not 1098599999999.9999.
    Written figures never carry more than 15 significant digits, all a float holds exactly."""
    return float(f"{value:.15g}")


def _is_identifier(doc: Doc, left: str, right: str, num: str, den: str | None, rank: bool) -> bool:
    """A date part, document number, section, name or code (`exclude` in the lexicon)."""
    lex = doc.lex
    if not rank and lex.pattern("exclude.left").search(left, len(left) - _CUE_REACH):
        return True
    if lex.pattern("exclude.right").match(right):
        return True
    return den is not None and not rank and _is_date_pair(num, den, right)


def _measures_nothing(
    doc: Doc,
    m: re.Match[str],
    value: float,
    unit: Unit | None,
    scale_len: int,
    left: str,
    right: str,
) -> bool:
    """Years, year spans, the 100 of "/100 dân" and tier names ("mức 2")."""
    lex = doc.lex
    num, den, hi = m.group("num"), m.group("den"), m.group("hi")
    if hi is not None and _YEAR_LIKE.fullmatch(num) and _is_date_end(hi):
        return True
    bare = unit is None and scale_len == 0 and den is None
    if bare and _YEAR_LIKE.fullmatch(num) and _MIN_YEAR <= value <= _MAX_YEAR:
        return True
    if (
        value == 100
        and lex.pattern("exclude.definition_left").search(left)
        and lex.pattern("exclude.definition_right").match(right)
    ):
        return True
    return (
        unit is None
        and value <= _MAX_LEVEL_NAME
        and lex.pattern("exclude.level_name").search(left) is not None
    )


def _is_date_end(hi: str) -> bool:
    """The end of "2021-2025" or "2023-12": another year or a month."""
    return bool(_YEAR_LIKE.fullmatch(hi) or (_PLAIN_INT.fullmatch(hi) and int(hi) <= 12))


def _read_item(doc: Doc, cand: Cand, pos: int, *, scaled: bool) -> None:
    """A count's item; a rate ("lượt truy cập/tháng") or a stray decimal changes the unit."""
    cand.item, cand.item_end = _item(doc, pos)
    if doc.lex.pattern("item.rate").match(doc.low[pos : cand.item_end + _RATE_REACH]):
        cand.unit = Unit.other
    fraction = not cand.value.is_integer() and not scaled and cand.value <= _PERCENT_MAX
    if not cand.rank and fraction:
        cand.unit = Unit.percent


def _merge_word_ranges(doc: Doc, cands: list[Cand]) -> list[Cand]:
    """`từ 60 đến 70%`: one range, read with the unit of its upper bound."""
    out: list[Cand] = []
    for cand in cands:
        prev = out[-1] if out else None
        if prev is not None and prev.max is None and prev.sentence == cand.sentence:
            gap = doc.low[prev.end : cand.start]
            before = doc.low[max(0, prev.start - 4) : prev.start]
            if before.endswith("từ ") and gap.strip() in {"đến", "tới", "-", "–"}:
                prev.max = cand.value
                prev.unit, prev.end = cand.unit, cand.end
                prev.unit_end, prev.item_end, prev.tail_end = (
                    cand.unit_end,
                    cand.item_end,
                    cand.tail_end,
                )
                prev.item, prev.role, prev.basis = cand.item, cand.role, cand.basis
                continue
        out.append(cand)
    return out


def _drop_footnote_marks(doc: Doc, cands: list[Cand]) -> list[Cand]:
    """`02 văn phòng đại diện 18;`: a bare number right after another count's item, with
    nothing of its own before the punctuation, is a footnote mark left by conversion."""
    out: list[Cand] = []
    for cand in cands:
        prev = out[-1] if out else None
        bare = cand.unit is Unit.count and cand.item is None and cand.of is None
        if bare and prev is not None and prev.item is not None and prev.sentence == cand.sentence:
            glued = not doc.low[prev.item_end : cand.start].strip()
            if glued and doc.low[cand.end : cand.end + 1] in _FOOTNOTE_END:
                continue
        out.append(cand)
    return out


# -- context: status, period, indicator, scope ---------------------------------------


def _segment_start(doc: Doc, cand: Cand, prev: Cand | None) -> int:
    start = doc.clause_start(cand.start)
    if prev is not None and prev.sentence == cand.sentence:
        start = max(start, min(prev.tail_end, cand.start))
    return start


def _status(doc: Doc, seg: str, left: str) -> Status | None:
    lex = doc.lex
    if lex.pattern("status.estimate_adjacent").search(left):
        return Status.estimate
    window = seg[-_TARGET_WINDOW:]
    targets = list(lex.pattern("status.target").finditer(window))
    if targets and not lex.pattern("status.achieved").search(window, targets[-1].end()):
        return Status.target
    if lex.pattern("status.estimate").search(seg[-_EST_WINDOW:]):
        return Status.estimate
    return None


def _is_flow(doc: Doc, cand: Cand) -> bool:
    if cand.unit in (Unit.VND, Unit.USD):
        return True
    return (
        doc.lex.pattern("period.flow_words").search(
            doc.low, doc.near_start(cand.start), cand.item_end
        )
        is not None
    )


def _explicit_period(doc: Doc, cand: Cand, used: set[int], next_start: int) -> PeriodMention | None:
    _, sent_end = doc.sentence_bounds(cand.sentence)
    sent_start = doc.near_start(cand.start)
    starts = doc.period_starts
    i = bisect_left(starts, cand.tail_end)
    if i < len(doc.periods):
        p = doc.periods[i]
        limit = min(next_start, sent_end)
        gap = doc.low[cand.tail_end : p.start]
        names_next = _NAMES_NEXT.match(doc.low, p.end) is not None
        if p.end <= limit and _TRAILING_GAP.fullmatch(gap) and not names_next:
            used.add(i)
            return p
    j = bisect_left(starts, cand.start) - 1
    while j >= 0 and doc.periods[j].start >= sent_start:
        if j not in used and doc.periods[j].end <= cand.start:
            return doc.periods[j]
        j -= 1
    return None


def _in_future(doc: Doc, pos: int) -> Future | None:
    return next((f for f in doc.future if f.start <= pos < f.end), None)


def _pick_indicator(
    doc: Doc, cand: Cand, seg_start: int, right_end: int, next_start: int
) -> str | None:
    unit = cand.unit.value
    sent_start = doc.near_start(cand.start)
    best: tuple[float, str] | None = None
    clause_end = min(_clause_end(doc, cand), next_start)
    # (start, end, how far a phrase may run on, bonus, distance slope)
    windows: tuple[tuple[int, int, int, float, float], ...] = (
        (cand.end, right_end, max(right_end, clause_end), 6.0, 8.0),
        (right_end, clause_end, clause_end, 1.0, 5.0),
        (seg_start, cand.start, cand.start, 4.0, 40.0),
        (sent_start, seg_start, seg_start, -100.0, 4.0),
    )
    if _share_named_after(doc, cand):
        windows = windows[:3]
    phrases = doc.phrases
    named_after = doc.lex.pattern("indicator.label_after").match(doc.low, cand.unit_end) is not None
    for a, b, limit, bonus, slope in windows:
        if a >= b or phrases is None:
            continue
        for match in phrases.within(a, b, limit):
            if match.phrase.unit != unit:
                continue
            score = match.weight + bonus + _closeness(match, cand) / slope
            if a == cand.end and (named_after or _is_item(cand, match)):
                score += _ITEM_BONUS
            if best is None or score > best[0]:
                best = (score, match.phrase.code)
    return best[1] if best else _topic_indicator(doc, cand, seg_start)


def _counts_other_things(doc: Doc, cand: Cand, code: str) -> bool:
    """A count of communes, villages or case files ("42 thôn", "36.520 hồ sơ") measures no
    metric named near it, unless one of the metric's own phrasings counts the same thing."""
    if cand.unit is not Unit.count or not cand.item:
        return False
    noun = doc.lex.pattern("indicator.counted_other").match(normalise(cand.item.lower()))
    return noun is not None and not any(p.startswith(noun.group()) for p in _phrasings(code))


@lru_cache(maxsize=256)
def _phrasings(code: str) -> tuple[str, ...]:
    found = next((i for i in indicators() if i.code == code), None)
    return tuple(normalise(p.lower()) for p in found.phrasings) if found else ()


def _topic_indicator(doc: Doc, cand: Cand, seg_start: int) -> str | None:
    """A bare "19 doanh nghiệp" under the heading "1. Bưu chính": item plus section topic."""
    i = bisect_right(doc.topics, (cand.start, "")) - 1
    if i < 0:
        return None
    topic = doc.topics[i][1]
    item = (cand.item or "").lower()
    label = doc.low[seg_start : cand.start]
    heads = (" ".join(item.split()[:_HEAD_WORDS]), item, " ".join(label.split()[:_HEAD_WORDS]))
    for head in heads:
        if head.strip():
            code = _topic_match(
                head, topic, cand.unit.value, " ".join(doc.lex.words("indicator.light_words"))
            )
            if code is not None:
                return code
    return None


@lru_cache(maxsize=4096)
def _topic_match(head: str, topic: str, unit: str, light_words: str) -> str | None:
    text = f"{head} {topic}"
    for match in PhraseIndex(text, light_words, [(0, len(text))]).matches:
        if match.start < len(head) < match.end and match.phrase.unit == unit:
            return match.phrase.code
    return None


def _depth(doc: Doc, cand: Cand) -> int:
    """How many brackets are open at the number, within its sentence."""
    start = doc.near_start(cand.start)
    return max(0, doc.low.count("(", start, cand.start) - doc.low.count(")", start, cand.start))


def _parent(levels: list[tuple[int, Cand]], depth: int) -> Cand | None:
    """The level a change qualifies: the latest outside the change's own brackets
    ("415.713 (tăng 35,56%)"), else the latest not inside deeper brackets."""
    outer = next((c for d, c in reversed(levels) if d < depth), None)
    return outer or next((c for d, c in reversed(levels) if d <= depth), None)


def _same_metric(doc: Doc, cand: Cand, seg: str) -> bool:
    """A target of the figure before it, or a figure whose text names only a new period
    ("…2.278 tỷ đồng, trong năm 2023 ước tính 2.483 tỷ đồng"), measures the same metric."""
    if cand.status is Status.target:
        return True
    words = (
        doc.lex.pattern("label.trim_tail")
        .sub("", doc.lex.pattern("period.period_words").sub(" ", seg))
        .split()
    )
    if len(words) > _THIN_LABEL:
        return False
    return not _share_named_after(doc, cand)


def _share_named_after(doc: Doc, cand: Cand) -> bool:
    """A share whose words follow it ("..., 85,2%; 100% xã có điểm phục vụ bưu chính"): the
    metric is named there, not by an earlier figure of the sentence."""
    after = [w for w in doc.text[cand.unit_end : _clause_end(doc, cand)].split() if w != "|"]
    return cand.unit is Unit.percent and len(after) > _THIN_LABEL


def _is_item(cand: Cand, match: PhraseMatch) -> bool:
    return cand.unit is Unit.count and 0 <= match.start - cand.unit_end <= _ADJACENT


def _clause_end(doc: Doc, cand: Cand) -> int:
    stop = _CLAUSE_END.search(doc.text, cand.unit_end, cand.unit_end + 2 * _MAX_WINDOW)
    return stop.start() if stop else min(len(doc.text), cand.unit_end + 2 * _MAX_WINDOW)


def _closeness(match: PhraseMatch, cand: Cand) -> float:
    distance = cand.start - match.end if match.end <= cand.start else match.start - cand.end
    return -float(min(max(distance, 0), 200))


def _right_end(doc: Doc, cand: Cand, next_start: int) -> int:
    stop = doc.lex.pattern("indicator.window_stop").search(
        doc.text, cand.unit_end, cand.unit_end + _MAX_WINDOW
    )
    end = stop.start() if stop else min(len(doc.text), cand.unit_end + _MAX_WINDOW)
    comma = doc.text.find(",", cand.unit_end, end)
    if cand.unit is not Unit.rank and comma >= 0:
        end = comma
    return max(cand.unit_end, min(end, next_start))


def _label(doc: Doc, seg_start: int, cand: Cand, right_end: int) -> str | None:
    lex = doc.lex
    cell = cand.cell
    if cell is not None and cell.row_label is not None:
        if cand.role is not Role.level:
            return None  # a change or ratio takes the label of its level (`_inherit`)
        return _trim(lex, doc.text[slice(*cell.row_label)]) or None
    label = _trim(lex, doc.text[seg_start : cand.start])
    if not label:
        label = _trim(lex, doc.text[cand.unit_end : right_end])
    if not label:
        return None
    if len(label) > lex.integer("label.max_chars"):
        cut = label[-lex.integer("label.max_chars") :]
        label = cut[cut.find(" ") + 1 :] if " " in cut else cut
    return label


def _trim(lex: Lexicon, text: str) -> str:
    low = text.lower()
    head = lex.pattern("label.trim_head").match(low)
    a = head.end() if head else 0
    tail = lex.pattern("label.trim_tail").search(low, max(a, len(low) - _TRIM_REACH))
    b = tail.start() if tail else len(text)
    return " ".join(text[a:b].split())


def _national_subject(doc: Doc, cand: Cand) -> bool:
    """The country is what the figure's clause (or its part after a comma) is about."""
    clause = doc.clause_start(cand.start)
    part = max(clause, doc.low.rfind(",", clause, cand.start) + 1)
    return doc.lex.pattern("scope.national_subject").match(doc.low[part : cand.start]) is not None


def _is_sub(doc: Doc, cand: Cand) -> bool:
    lex = doc.lex
    clause = doc.clause_start(cand.start)
    after = doc.text[cand.unit_end : _clause_end(doc, cand)]
    if lex.pattern("scope.sub_right").match(after):
        return True
    return any(
        area_code(m.group(), doc.code_list) != doc.scope
        for m in lex.pattern("scope.sub").finditer(
            doc.text, max(clause, cand.start - _SUB_REACH), cand.start
        )
    )


@dataclass(slots=True)
class _Walk:
    """What the walk over a document's numbers remembers from one number to the next."""

    used_periods: set[int] = field(default_factory=set)
    prev: Cand | None = None
    last_level: Cand | None = None
    component_parent: Cand | None = None
    levels: list[tuple[int, Cand]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Window:
    """The text around one number: its segment (since the previous number) and limits."""

    seg_start: int
    seg: str
    left: str
    right_end: int
    next_start: int


def _contextualise(doc: Doc, cands: list[Cand]) -> None:
    walk = _Walk()
    for k, cand in enumerate(cands):
        next_start = cands[k + 1].start if k + 1 < len(cands) else len(doc.text)
        seg_start = _segment_start(doc, cand, walk.prev)
        win = _Window(
            seg_start=seg_start,
            seg=doc.low[seg_start : cand.start],
            left=doc.low[max(seg_start, cand.start - _LEFT_WINDOW) : cand.start],
            right_end=_right_end(doc, cand, next_start),
            next_start=next_start,
        )
        _enter(doc, walk, cand, win.seg)
        depth = _depth(doc, cand)
        cand.label = _label(doc, seg_start, cand, win.right_end)
        mention = _explicit_period(doc, cand, walk.used_periods, next_start)
        parent = _parent(walk.levels, depth) if cand.role is not Role.level else None
        if parent is not None and parent.status is Status.target:
            parent = _compared_level(doc, walk, cand) or parent
        if parent is not None:
            _inherit(cand, parent)
        else:
            _own_context(doc, walk, cand, win, mention)
            if cand.role is Role.level:
                walk.last_level = cand
                walk.levels.append((depth, cand))
        if cand.cell is not None and cand.cell.header and cand.role is Role.level:
            _column_context(doc, cand, cand.cell.header, mention)
        cand.period = cand.period or doc.doc_period.period
        walk.prev = cand


def _compared_level(doc: Doc, walk: _Walk, cand: Cand) -> Cand | None:
    """In a table row "TH 2023 | KH 2024 | So với cùng kỳ (%)" the comparison is of the
    latest result, not of the plan beside it: the row's last level that is no target."""
    if cand.cell is None or doc.lex.pattern("table.plan_header").search(cand.cell.header):
        return None
    row = doc.sentence_of(cand.start)
    levels = (c for _, c in reversed(walk.levels) if c.sentence == row)
    return next((c for c in levels if c.status is not Status.target), None)


def _column_context(doc: Doc, cand: Cand, header: str, own: PeriodMention | None) -> None:
    """A level under "Kế hoạch 2024" is a target for 2024; under "Ước thực hiện 6 tháng"
    an estimate for the half year. A period written in the cell itself comes first."""
    lex = doc.lex
    if lex.pattern("table.change_header").search(header) or lex.pattern(
        "table.ratio_header"
    ).search(header):
        return
    if lex.pattern("table.estimate_header").search(header):
        cand.status = Status.estimate
    elif lex.pattern("table.target_header").search(header):
        cand.status = Status.target
    elif lex.pattern("table.actual_header").search(header):
        cand.status = Status.actual
    if own is None:
        cand.period = _header_period(doc, header, flow=_is_flow(doc, cand)) or cand.period


def _header_period(doc: Doc, header: str, *, flow: bool) -> str | None:
    for mention in find_periods(header, doc.lex, [(0, len(header))]):
        period = resolve(mention, doc.doc_period.year, flow=flow)
        if period is not None:
            return period
    years = set(_HEADER_YEAR.findall(header))
    return years.pop() if len(years) == 1 else None


def _enter(doc: Doc, walk: _Walk, cand: Cand, seg: str) -> None:
    """Track sentences and "trong đó" lists, whose parts share their total's status."""
    lex = doc.lex
    if walk.prev is None or walk.prev.sentence != cand.sentence:
        walk.levels = []
        opens = lex.pattern("status.component").match(doc.low, doc.sent_starts[cand.sentence])
        walk.component_parent = walk.last_level if opens else None
    if (
        lex.pattern("status.component").search(seg, max(0, len(seg) - _SUB_REACH))
        and walk.last_level is not None
    ):
        walk.component_parent = walk.last_level
    elif ")" in seg:
        walk.component_parent = None


def _inherit(cand: Cand, parent: Cand) -> None:
    """A change or ratio describes the level it follows (GUIDELINE §6)."""
    cand.label = " ".join(x for x in (parent.label, cand.label) if x) or None
    cand.status = parent.status
    cand.indicator = parent.indicator
    cand.period = parent.period
    cand.scope = parent.scope


def _own_context(
    doc: Doc, walk: _Walk, cand: Cand, win: _Window, mention: PeriodMention | None
) -> None:
    explicit = _resolve(doc, cand, mention) if mention else None
    future = _in_future(doc, cand.start)
    cand.status = _own_status(doc, walk, win, mention, explicit, future, cand)
    cand.period = explicit
    if cand.period is None and future is not None:
        cand.period = future.period
    if cand.period is None and walk.component_parent is not None:
        cand.period = walk.component_parent.period
    cand.indicator = _pick_indicator(doc, cand, win.seg_start, win.right_end, win.next_start)
    previous = walk.levels[-1][1] if walk.levels else None
    if cand.indicator is None and previous is not None and previous.unit is cand.unit:
        cand.indicator = previous.indicator if _same_metric(doc, cand, win.seg) else None
    if cand.indicator is not None and _counts_other_things(doc, cand, cand.indicator):
        cand.indicator = None
    cand.scope = "sub" if _is_sub(doc, cand) else doc.scope
    if cand.scope not in ("VN", "sub") and _national_subject(doc, cand):
        cand.scope = "VN"
    if cand.scope == "VN":
        clause = doc.clause_start(cand.start)
        cand.scope = province_in(doc.text, clause, cand.start, doc.code_list) or "VN"


def _resolve(doc: Doc, cand: Cand, mention: PeriodMention) -> str | None:
    if mention.kind == "year_to_date":
        return year_to_date(doc.doc_period.period)
    return resolve(mention, doc.doc_period.year, flow=_is_flow(doc, cand))


def _own_status(
    doc: Doc,
    walk: _Walk,
    win: _Window,
    mention: PeriodMention | None,
    explicit: str | None,
    future: Future | None,
    cand: Cand,
) -> Status:
    status = _status(doc, win.seg, win.left)
    ahead = explicit is not None and explicit[:4] > str(doc.doc_period.year)
    if status is None and mention is not None and mention.kind == "horizon" and ahead:
        status = Status.target
    if status is None and future is not None:
        status = Status.target
    if status is None and ahead and _follows_a_target(walk, cand):
        status = Status.target
    if status is None and walk.component_parent is not None:
        status = walk.component_parent.status
    return status or Status.actual


def _follows_a_target(walk: _Walk, cand: Cand) -> bool:
    """A later period's figure listed after a target in the same sentence is a target too
    ("phấn đấu 80% ..., từ 60 đến 70% ...")."""
    prev = walk.prev
    return prev is not None and prev.sentence == cand.sentence and prev.status is Status.target


def _regions(doc: Doc, cands: list[Cand]) -> list[tuple[int, int]]:
    """The sentences that hold a number: the only text whose words name a metric."""
    regions: list[tuple[int, int]] = []
    for cand in cands:
        start, end = doc.sentence_bounds(cand.sentence)
        if regions and start <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], end))
        else:
            regions.append((start, end))
    return regions


def _to_fact(doc: Doc, cand: Cand, name: str) -> Fact | None:
    period = cand.period or doc.doc_period.period
    if not name or not math.isfinite(cand.value):
        return None
    try:
        return Fact(
            doc=name[:_MAX_DOC_NAME],
            start=cand.start,
            end=cand.end,
            text=doc.text[cand.start : cand.end][:_MAX_TEXT],
            value=cand.value,
            unit=cand.unit,
            item=cand.item[:_MAX_ITEM] if cand.item and cand.unit is Unit.count else None,
            role=cand.role,
            basis=cand.basis,
            of=cand.of,
            max=cand.max,
            period=period,
            status=cand.status,
            indicator=cand.indicator,
            scope=cand.scope,
            label=cand.label[:_MAX_LABEL] if cand.label else None,
        )
    except ValueError:
        return None


class TooManyFacts(Exception):
    """The text states more facts than the caller allows (`max_facts`)."""

    def __init__(self, found: int, limit: int, *, counting_stopped: bool) -> None:
        super().__init__(f"more than {limit} facts ({found}{'+' if counting_stopped else ''})")
        self.found = found
        self.limit = limit
        self.counting_stopped = counting_stopped


# Numbers read as candidates per allowed fact before reading stops: some candidates give no
# fact (in the seed reports up to 1.6 per fact), so this bounds the work and memory a hostile
# text of bare numbers costs without refusing a document whose facts fit.
CANDIDATES_PER_FACT = 4


def run(
    text: str,
    *,
    doc: str,
    published: str | None,
    scope: str | None,
    max_facts: int | None = None,
) -> list[Fact]:
    text = unicodedata.normalize("NFC", text)
    lex = lexicon()
    prepared = _prepare(text, lex, scope)
    cands = _candidates(prepared, lex, max_facts)
    cands = _drop_footnote_marks(prepared, _merge_word_ranges(prepared, cands))
    if not _add_context(prepared, cands, published):
        return []
    _contextualise(prepared, cands)
    facts = [f for c in cands if (f := _to_fact(prepared, c, doc)) is not None]
    if max_facts is not None and len(facts) > max_facts:
        raise TooManyFacts(len(facts), max_facts, counting_stopped=False)
    facts.sort(key=lambda f: f.start)
    return facts


def _candidates(doc: Doc, lex: Lexicon, max_facts: int | None) -> list[Cand]:
    ceiling = None if max_facts is None else max_facts * CANDIDATES_PER_FACT
    cands: list[Cand] = []
    for m in lex.pattern("candidate.number").finditer(doc.text):
        cand = _read(doc, m)
        if cand is None:
            continue
        cands.append(cand)
        if ceiling is not None and len(cands) > ceiling:
            raise TooManyFacts(len(cands), max_facts or 0, counting_stopped=True)
    return cands
