"""Numbers: find every written number, drop those that are no figures, read the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from types import MappingProxyType

from chiso_ingest.extraction.document import Doc, english_digits
from chiso_ingest.extraction.lexicon import Lexicon
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.numbers import parse_number, reread_as_decimal
from chiso_ingest.extraction.tables import Cell
from chiso_shared.facts import Basis, Role, Unit

_WORD = re.compile(r"[^\W\d_][\w/&.-]*")
_PLAIN_INT = re.compile(r"\d{1,2}")
_WHOLE = re.compile(r"\d+")
# where a word or a mark opens
_TOKEN_START = re.compile(r"\b\w|[^\w\s]")
_DATED_AFTER = re.compile(r"\s*năm\s+(?:19|20)\d\d\b")
_YEAR_LIKE = re.compile(r"(?:19|20)\d\d")
# a line break, then what starts the next line
_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*(?P<next>\S?)")
_BRACKETED = re.compile(r"\(([^()]{1,40})\)")
_MIN_YEAR, _MAX_YEAR = 1950, 2100
# where a table cell ends: a tab or a pipe
_CELL_BREAK = re.compile(r"[\t|]|[ \u00a0]{3}")
# longer digit runs are identifiers or noise, never a reported figure
_MAX_DIGITS = 24
# "mức 2", "cấp 3": small numbers after these words name a tier
_MAX_LEVEL_NAME = 5
# "79,1 người dân": a fraction of people is a share whose % sign went missing
_PERCENT_MAX = 100.0
_FOOTNOTE_END = (";", ",", ".", "")
_PLAUSIBLE_MAX = MappingProxyType(
    {Unit.percent: 1000.0, Unit.Mbps: 10000.0, Unit.per_100_people: 300.0}
)


class TooManyFacts(Exception):
    """The text states more facts than the caller allows (`max_facts`)."""

    def __init__(self, found: int, limit: int, *, counting_stopped: bool) -> None:
        super().__init__(f"more than {limit} facts ({found}{'+' if counting_stopped else ''})")
        self.found = found
        self.limit = limit
        self.counting_stopped = counting_stopped


# -- the windows around a number --------------------------------------------------------


# "2,235": a comma and three digits, which the two conventions read differently
_AMBIGUOUS = re.compile(r"\d{1,3},\d{3}")
# a pair's numerator with a decimal comma ("9,42/10", "12,61/13,5"): no count of things
_DECIMAL_PAIR = re.compile(r"\d+,\d+")
# a ranking written as a list: at least this many lines, under words this close above it
_MIN_LIST, _LIST_LEAD = 3, 200
# a number grouped in thousands ("6.150"), after a word that opens a date ("tháng")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_DATE_WORD = re.compile(r"(?:tháng|quý|ngày|năm)\s*$")
# an index score in brackets right after a place ("03 (0,681)")
_SCORE_IN_BRACKETS = re.compile(r"\s*\(\s*0,\d{2,4}\s*(?:điểm\s*)?\)")
# an index score as indices publish them: 0 or 1, a decimal comma, three or four places
_INDEX_SCORE = re.compile(r"[01],\d{3,4}")
# a bare number scaled at least this much ("tỷ", "triệu") may be money by its words
_MONEY_SCALE = 1e6


def _left_of(doc: Doc, m: Mention) -> str:
    """The lower-cased text just before a number, within its sentence and its table cell."""
    sent_start = doc.sentence_starts[doc.sentence_of(m.start)]
    left = doc.low[max(sent_start, m.start - doc.lex.integer("windows.left")) : m.start]
    # in a table, the cell before is another column ("Hải Phòng<TAB>0,6983" names no room)
    cell_start = max(left.rfind("\t"), left.rfind("|"))
    return left if cell_start < 0 else left[cell_start + 1 :]


def _right_of(doc: Doc, m: Mention) -> str:
    """The lower-cased text just after a number, on its line and in its table cell (cells
    part at a tab, a bar or a run of spaces): the next cell's words ("Hạng 2023\tHạng 2022")
    are not its unit."""
    right = this_line(doc.text, m.end, doc.low[m.end : m.end + doc.lex.integer("windows.right")])
    if "\t" not in right and "|" not in right and "  " not in right and "\u00a0" not in right:
        return right  # (most numbers: prose, no cell after them)
    cell_end = _CELL_BREAK.search(right)
    return right if cell_end is None else right[: cell_end.start()]


def this_line(text: str, end: int, right: str) -> str:
    """`right`, the text after a number ending at `end`, cut at a line break when the next
    line starts something new: a capital, a bullet or a digit begins a table's next row or a
    new sentence ("1.150⏎Tỷ lệ hồ sơ ..." is no billion), while a line that goes on in lower
    case is the same sentence wrapped (its unit may be there)."""
    m = _LINE_BREAK.match(right)
    if m is None:
        return right
    first = text[end + m.start("next") : end + m.end("next")]
    return right if first.islower() else right[: m.start()]


# -- stage: find -------------------------------------------------------------------------


def find_numbers(doc: Doc, mentions: Iterable[Mention]) -> Iterator[Mention]:  # noqa: ARG001
    """Every number, pair (`558/559`) or range (`3-4`) written in the text (the first
    stage: it reads no mentions). Like the two stages after it, it yields them one by one,
    so that `read_values` can stop a text of bare numbers without holding them all."""
    for m in doc.lex.pattern("candidate.number").finditer(doc.text):
        yield Mention(m.start(), m.end(), m.group("num"), m.group("den"), m.group("hi"))


# -- stage: exclusions -------------------------------------------------------------------


def drop_identifiers(doc: Doc, mentions: Iterable[Mention]) -> Iterator[Mention]:
    """Section numbers, dates, codes, names and table row numbers give no fact."""
    listed = ranking_lists(doc.low, doc.lex)
    for m in mentions:
        ranked = m.start in listed  # "01. Quận Lê Chân ..... 0,6802 điểm (+2)"
        if not ranked and (
            _is_section_number(doc, m.start, m.end) or _excluded(doc, m.start, m.end)
        ):
            continue
        if doc.low[m.start] != doc.text[m.start]:
            continue  # a page number, blanked out of the lower-cased text (`document.py`)
        left, right = _left_of(doc, m), _right_of(doc, m)
        cell = doc.tables.cell_at(m.start)
        rank = True if ranked else _rank_context(doc, m.start, left, right, m.den is not None)
        if cell is not None and not rank and _ranks_column(doc, cell):
            rank = True  # "thứ 17" or "2/8" under "Xếp hạng": a place, not a name or a date
        if rank is None or _is_identifier(doc.lex, left, right, m, rank):
            continue
        if cell is not None and _numbers_its_row(doc, cell):
            continue
        yield m.evolve(left=left, right=right, rank=rank, cell=cell)


@lru_cache(maxsize=4)
def ranking_lists(low: str, lex: Lexicon) -> frozenset[int]:
    """Where the numbers of a ranking written as a list stand: three or more lines in a row
    numbered 1, 2, 3 ... that each give a place and its score ("01. Quận Lê Chân .....
    0,6802 điểm (+2)"), zero-padded or under words that name a ranking; their numbers are
    ranks, and a signed number in brackets after the score a change of rank."""
    found: list[int] = []
    block: list[re.Match[str]] = []
    for m in [*lex.pattern("rank.list_line").finditer(low), None]:
        if m is not None and block and _next_in_list(low, block[-1], m):
            block.append(m)
            continue
        if len(block) >= _MIN_LIST and _is_ranking(low, lex, block):
            found += [line.start("n") for line in block]
            found += [
                line.start("chg") + 1 for line in block if line.group("chg") not in (None, "=")
            ]
        block = [m] if m is not None and m.group("n").lstrip("0") == "1" else []
    return frozenset(found)


def _next_in_list(low: str, prev: re.Match[str], m: re.Match[str]) -> bool:
    """`m` is the line right after `prev` ("..." lines between leave ranks out) numbered on."""
    between = low[prev.end() : m.start()]
    return not between.strip(" \t\n.…") and int(m.group("n")) > int(prev.group("n"))


def _is_ranking(low: str, lex: Lexicon, block: list[re.Match[str]]) -> bool:
    """The list's numbers are zero-padded ("01."), or the lines above it name a ranking."""
    if block[0].group("n").startswith("0"):
        return True
    above = low[max(0, block[0].start() - _LIST_LEAD) : block[0].start()]
    return lex.pattern("rank.list_lead").search(above) is not None


def _ranks_column(doc: Doc, cell: Cell) -> bool:
    header = cell.header
    return bool(header) and doc.lex.pattern("table.rank_header").search(header) is not None


def _numbers_its_row(doc: Doc, cell: Cell) -> bool:
    """A row code or column number ("STT"), unless its column ranks ("Xếp hạng | Tỉnh"), or
    the most a score beside it can reach ("Điểm tối đa")."""
    lex = doc.lex
    if lex.pattern("table.index_header").fullmatch(cell.header):
        return True
    if cell.header and lex.pattern("table.max_header").search(cell.header):
        return True
    return cell.numbering and not lex.pattern("table.rank_header").search(cell.header)


def _is_section_number(doc: Doc, start: int, end: int) -> bool:
    if doc.lex.pattern("exclude.inline_section").match(doc.low, start):
        return True
    line = doc.low.rfind("\n", 0, start) + 1
    prefix = doc.low[line:start]
    if prefix.strip(" \t-–•*+("):
        return False
    return (
        doc.low[end : end + 2] in {". ", ".\t", ") "}
        or doc.low[end : end + 1] in {".", ")"}
        and (end + 1 >= len(doc.low) or doc.low[end + 1] in " \t\n")
    )


def _excluded(doc: Doc, start: int, end: int) -> bool:
    """The number lies in a name, code or clock time (`exclude.spans`), looked for in a
    window around it (cheaper than one scan of the whole text: numbers are sparse)."""
    reach = doc.lex.integer("windows.exclude_span")
    a, b = max(0, start - reach), min(len(doc.low), end + reach)
    for m in doc.lex.pattern("exclude.spans").finditer(doc.low, a, b):
        if m.start() < end and start < m.end():
            return True
    return False


def _rank_context(doc: Doc, start: int, left: str, right: str, has_den: bool) -> bool | None:
    """True for a rank, None when "thứ N" is a name ("lần thứ 2"), False when no ordinal."""
    lex = doc.lex
    if not lex.pattern("rank.ordinal").search(left):
        # "lọt vào top 5/63", "đứng 52/63": a rank when it says out of how many ("top 10"
        # alone names a group)
        return has_den and lex.pattern("rank.out_of").search(left) is not None
    sent_start = doc.near_start(start)
    if (
        has_den
        or lex.pattern("rank.cue").search(doc.low, sent_start, start)
        or lex.pattern("rank.place_right").match(right)
    ):
        return True
    return None


def _is_identifier(lex: Lexicon, left: str, right: str, m: Mention, rank: bool) -> bool:
    """A date part, document number, section, name or code (`exclude` in the lexicon)."""
    cue = lex.integer("windows.cue")
    # "phát triển mới trong tháng 6.150 thuê bao": a grouped thousand is no month
    grouped = _THOUSANDS.fullmatch(m.num) is not None and _DATE_WORD.search(left) is not None
    if not rank and not grouped and _ends_with(lex.pattern("exclude.left"), left, len(left) - cue):
        return True
    rare = not rank and ("lưu" in left or "của" in left)
    if rare and lex.pattern("exclude.left_rare").search(left, max(0, len(left) - cue)):
        return True
    if not rank and _numbered(lex, left, right, m.num, cue):
        return True
    # "đứng thứ 3 năm 2024": the year dates the rank ("3 năm" alone is a span of years)
    if lex.pattern("exclude.right").match(right) and not (rank and _DATED_AFTER.match(right)):
        return True
    return m.den is not None and not rank and _is_date_pair(m.num, m.den, right)


def _ends_with(pattern: re.Pattern[str], left: str, start: int) -> bool:
    """`pattern` (whose every choice opens a word or with a mark, `each = "word_start"`)
    matches from one of the words or marks of `left` after `start`: tried only there, where
    a search would try every position."""
    for token in _TOKEN_START.finditer(left, max(0, start)):
        if pattern.match(left, token.start()):
            return True
    return False


def _numbered(lex: Lexicon, left: str, right: str, num: str, cue: int) -> bool:
    """A document's or a house's number after "số": a plain whole number, no percentage."""
    return (
        "số" in left
        and _WHOLE.fullmatch(num) is not None
        and not right.lstrip().startswith("%")
        and lex.pattern("exclude.number_word").search(left, len(left) - cue) is not None
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


# -- stage: values -----------------------------------------------------------------------


def read_values(
    doc: Doc, mentions: Iterable[Mention], *, ceiling: int | None = None, limit: int = 0
) -> Iterator[Mention]:
    """Each number's value with its scale, unit and what it counts; years, tier names and
    the 100 of "/100 dân" measure nothing. Past `ceiling` numbers, reading stops."""
    count = 0
    for m in mentions:
        read = _read_value(doc, m)
        if read is None:
            continue
        count += 1
        if ceiling is not None and count > ceiling:
            raise TooManyFacts(count, limit, counting_stopped=True)
        yield read


def _read_value(doc: Doc, m: Mention) -> Mention | None:
    lex = doc.lex
    left, right = m.left, m.right
    factor, scale_len = _scale(lex, right)
    # "2,235 tỷ" is 2.235 billion in Vietnamese digits, 2,235 billion in English ones
    decimal_comma = scale_len > 0 and not (
        _AMBIGUOUS.fullmatch(m.num) is not None and english_digits(doc.low, lex)
    )
    value = parse_number(m.num, scale_follows=decimal_comma) if len(m.num) <= _MAX_DIGITS else None
    unit, unit_factor, unit_len = _written_unit(doc, m, right[scale_len:])
    # a year is a year whatever its column's unit ("Hạng 2023" heads a column of ranks)
    if value is None or _measures_nothing(doc, m, value, unit, scale_len, left, right):
        return None
    if unit is None and scale_len == 0 and m.cell is not None:
        factor, unit, unit_factor = _unit_in_cell(doc, m, m.cell)
    pos = m.end + scale_len + unit_len
    written, unit = unit is not None, unit or _unit_by_form(doc, m, value, right)
    item, item_end, read_unit = None, pos, unit or (Unit.rank if m.rank else Unit.count)
    if unit is None:
        scaled = scale_len > 0 or factor != 1.0  # "(nghìn hồ sơ)" in its row label scales it
        item, item_end, read_unit = _read_item(doc, m, value, read_unit, pos, scaled=scaled)
    if item is None and read_unit is Unit.count and m.cell is not None and m.cell.row_unit:
        item = m.cell.row_unit  # a table's "Đơn vị tính" column says what a row counts
    if item is None and unit is None and factor >= _MONEY_SCALE and _names_money(doc, m):
        read_unit = Unit.VND  # "doanh thu ... đạt 2.150 tỷ": đồng, though unwritten
    raw_value = _plausible(value, read_unit, m.num, scale_len > 0)
    top = parse_number(m.hi, scale_follows=decimal_comma) if m.hi is not None else None
    return m.evolve(
        value=_tidy(raw_value * factor * unit_factor),
        unit=read_unit,
        of=parse_number(m.den) if m.den is not None else _rank_field(doc, m, read_unit),
        max=_tidy(top * factor * unit_factor) if top is not None and top > raw_value else None,
        item=item,
        scale_len=scale_len,
        unit_written=written,
        unit_end=pos,
        item_end=item_end,
        sentence=doc.sentence_of(m.start),
    )


def _written_unit(doc: Doc, m: Mention, after: str) -> tuple[Unit | None, float, int]:
    """The unit written after a number (and its scale word), its factor and length; "212
    điểm" of service points is a count, no score."""
    unit, factor, length = _unit(doc.lex, after)
    if unit is Unit.other and _counted_points(doc, m, after):
        return None, 1.0, 0
    return unit, factor, length


def _unit_by_form(doc: Doc, m: Mention, value: float, right: str) -> Unit | None:
    """A score or a rank told by how it is written: a pair before "điểm" ("84,26/100 điểm",
    out of its maximum), an index score to three or four places ("1,0000", "0,612"), a
    whole number with that score in brackets after it ("03 (0,681)": the place it gives)."""
    if m.den is not None and doc.lex.pattern("units.points_word").match(right):
        return Unit.other
    if m.den is not None and _DECIMAL_PAIR.fullmatch(m.num):
        return Unit.other  # "9,42/10": a score out of its maximum, no share of things
    if value <= 1 and _INDEX_SCORE.fullmatch(m.num):
        return Unit.other
    if m.den is None and m.num.isdigit() and _SCORE_IN_BRACKETS.match(right):
        return Unit.rank
    return None


def _counted_points(doc: Doc, m: Mention, after: str) -> bool:
    """ "điểm" after a number whose sentence speaks of points of service ("nâng tổng số
    điểm phục vụ lên 212 điểm"): places counted, not a score."""
    if not doc.lex.pattern("units.points_word").match(after):
        return False
    start = doc.sentence_starts[doc.sentence_of(m.start)]
    return doc.lex.pattern("units.counted_points").search(doc.low, start, m.start) is not None


def _rank_field(doc: Doc, m: Mention, unit: Unit) -> float | None:
    """A ranked cell's field size, from its column's or row's "(/63)"."""
    if unit is not Unit.rank or m.cell is None:
        return None
    label = doc.low[slice(*m.cell.row_label)] if m.cell.row_label else ""
    for words in (m.cell.header, label):
        found = doc.lex.pattern("table.rank_field").search(words)
        if found is not None:
            return float(found.group("of"))
    return None


def _names_money(doc: Doc, m: Mention) -> bool:
    """The words before a scaled bare number name an amount of money ("doanh thu")."""
    start = max(
        doc.sentence_starts[doc.sentence_of(m.start)], m.start - doc.lex.integer("windows.money")
    )
    return doc.lex.pattern("units.money_subject").search(doc.low, start, m.start) is not None


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


def _unit_in_cell(doc: Doc, m: Mention, cell: Cell) -> tuple[float, Unit | None, float]:
    factor, unit, unit_factor = _cell_unit(doc, cell)
    if unit is Unit.rank and doc.text[m.start - 1 : m.start] == "(":
        unit = Unit.other  # "01 (0,812)" under "Hạng (Điểm)": the score beside the rank
    return factor, unit, unit_factor


def _cell_unit(doc: Doc, cell: Cell) -> tuple[float, Unit | None, float]:
    """A bare number in a table takes its column header's "(%)", its row's unit column
    ("tỷ đồng", "%") or its row label's "(%)": scale factor, unit and unit factor."""
    lex = doc.lex
    if cell.against or (cell.header and lex.pattern("table.percent_header").search(cell.header)):
        return 1.0, Unit.percent, 1.0  # a column that divides one column by another, in %
    if cell.header and lex.pattern("table.rank_header").search(cell.header):
        return 1.0, Unit.rank, 1.0
    if cell.header and lex.pattern("table.score_header").search(cell.header):
        return 1.0, Unit.other, 1.0
    if cell.header and lex.pattern("table.out_of_header").search(cell.header):
        return 1.0, Unit.other, 1.0  # "Số hóa hồ sơ (/22)": scores out of 22
    label = doc.low[slice(*cell.row_label)] if cell.row_label else ""
    # a row of ranks or scores under columns of years ("Xếp hạng DTI (/63) | 41 | 35")
    if label and not cell.row_unit and not _bracketed(cell.header):
        if lex.pattern("table.rank_header").search(label):
            return 1.0, Unit.rank, 1.0
        if lex.pattern("table.score_header").search(label):
            return 1.0, Unit.other, 1.0
    found = _table_unit_words(lex, cell.row_unit)
    # "Điểm" beside "Số điểm phục vụ" names what the row counts, not a score
    if found is not None and not (found[1] is Unit.other and _names(label, cell.row_unit)):
        return found
    for words in (_bracketed(cell.header), _bracketed(label)):
        found = _table_unit_words(lex, words)
        # "(điểm)" after "Số điểm phục vụ" names what is counted, not a score
        if found is not None and found[1] is not Unit.other:
            return found
    if label and lex.pattern("table.percent_header").search(label):
        return 1.0, Unit.percent, 1.0
    # "(Đơn vị: thứ hạng trên 63 tỉnh, thành phố)": a table of ranks
    if cell.caption_unit and lex.pattern("table.rank_header").search(cell.caption_unit):
        return 1.0, Unit.rank, 1.0
    return _unit_words(lex, cell.caption_unit) or (1.0, None, 1.0)


def _table_unit_words(lex: Lexicon, words: str) -> tuple[float, Unit | None, float] | None:
    """`_unit_words` of a table's unit cell or bracket, where a count's abbreviation ("TB",
    "Nghìn TB": subscribers) names what is counted."""
    if words and lex.pattern("table.count_unit").fullmatch(words):
        return _scale(lex, " " + words)[0], Unit.count, 1.0
    return _unit_words(lex, words)


def _names(label: str, words: str) -> bool:
    """The row label holds the unit's words as words of its own."""
    at = label.find(words)
    end = at + len(words)
    return (
        at >= 0
        and (at == 0 or not label[at - 1].isalnum())
        and (end == len(label) or not label[end].isalnum())
    )


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


def _plausible(value: float, unit: Unit, raw: str, scaled: bool) -> float:
    limit = _PLAUSIBLE_MAX.get(unit)
    if limit is not None and value > limit and not scaled:
        alt = reread_as_decimal(raw)
        if alt is not None:
            return alt
    return value


def _tidy(value: float) -> float:
    """`value` without binary noise: 1.098,6 tỷ is 1098600000000, not 1098599999999.9999.
    Written figures never carry more than 15 significant digits, all a float holds exactly."""
    return float(f"{value:.15g}")


def _measures_nothing(
    doc: Doc, m: Mention, value: float, unit: Unit | None, scale_len: int, left: str, right: str
) -> bool:
    """Years, year spans, the 100 of "/100 dân" and tier names ("mức 2")."""
    lex = doc.lex
    if m.hi is not None and _YEAR_LIKE.fullmatch(m.num) and _is_date_end(m.hi):
        return True
    bare = unit is None and scale_len == 0 and m.den is None
    if bare and _YEAR_LIKE.fullmatch(m.num) and _MIN_YEAR <= value <= _MAX_YEAR:
        return True
    if (
        value == 100
        and lex.pattern("exclude.definition_left").search(left)
        and lex.pattern("exclude.definition_right").match(right)
    ):
        return True
    if (
        unit is None
        and lex.pattern("exclude.group_left").search(left)
        and lex.pattern("exclude.group_right").match(right)
    ):
        return True
    listed = value <= _MAX_LEVEL_NAME and "độ" in left
    if listed and lex.pattern("exclude.level_list").search(left):
        return True
    if (
        unit is None
        and value <= _MAX_LEVEL_NAME
        and lex.pattern("exclude.level_name").search(left) is not None
        and lex.pattern("exclude.level_counted").match(right) is None
    ):
        return True
    if unit is None and "tiêu" in left and lex.pattern("exclude.row_reference_left").search(left):
        return lex.pattern("exclude.row_reference_right").match(right) is not None
    return _class_bound(lex, left, right)


def _class_bound(lex: Lexicon, left: str, right: str) -> bool:
    """A bound defining a class of things ("4 đơn vị dưới 600 điểm", "(từ 75 điểm trở
    lên)"), not a measure: "dưới" after a count or bracket; "từ", "trên" with "trở lên"."""
    if not left.endswith(("từ ", "dưới ", "trên ")):
        return False  # (most numbers: one test)
    bound = lex.pattern("exclude.class_bound_left").search(left)
    if bound is None:
        return False
    word = bound.group("word")
    if word == "dưới" or (bound.group("count") is not None and left.endswith("đạt trên ")):
        return True
    return lex.pattern("exclude.class_bound_right").match(right) is not None


def _is_date_end(hi: str) -> bool:
    """The end of "2021-2025" or "2023-12": another year or a month."""
    return bool(_YEAR_LIKE.fullmatch(hi) or (_PLAIN_INT.fullmatch(hi) and int(hi) <= 12))


def _read_item(
    doc: Doc, m: Mention, value: float, unit: Unit, pos: int, *, scaled: bool
) -> tuple[str | None, int, Unit]:
    """A count's item and its end; a rate ("lượt truy cập/tháng") or a stray decimal changes
    the unit."""
    item, item_end = _item(doc, pos)
    if doc.lex.pattern("item.rate").match(
        doc.low[pos : item_end + doc.lex.integer("windows.rate")]
    ):
        unit = Unit.other
    fraction = not value.is_integer() and not scaled and value <= _PERCENT_MAX
    if not m.rank and fraction:
        score = value < doc.lex.number("item.score_below") or _score_subject(doc, m)
        unit = Unit.other if score else Unit.percent
    return item, item_end, unit


def _score_subject(doc: Doc, m: Mention) -> bool:
    """The clause before a bare decimal names a score, not a share ("Điểm trung vị PCI cả
    nước năm 2022 là 65,96")."""
    lex = doc.lex
    start = max(
        doc.sentence_starts[doc.sentence_of(m.start)],
        m.start - lex.integer("windows.score_subject"),
    )
    before = doc.low[start : m.start]
    return (
        lex.pattern("item.score_subject").search(before) is not None
        and lex.pattern("item.share_subject").search(before) is None
    )


def _item(doc: Doc, pos: int) -> tuple[str | None, int]:
    """What a count counts: the words after it, up to a stop word or punctuation."""
    lex = doc.lex
    window = this_line(doc.text, pos, doc.text[pos : pos + lex.integer("windows.item")])
    stop = lex.pattern("item.stop").search(window.lower())
    span = window[: stop.start()] if stop else window
    words = span.split()[: lex.integer("item.max_words")]
    if not words:
        return None, pos
    phrase = " ".join(words).strip(" *_\"'“”")
    end = pos + window.find(words[-1]) + len(words[-1])
    return (phrase or None), end


# -- stage: ranges and footnotes ---------------------------------------------------------


def merge_ranges(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    """`từ 60 đến 70%`: one range, read with the unit of its upper bound and the role of
    its lower bound when a verb before it made one."""
    out: list[Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if prev is not None and _bounds_a_range(doc, prev, m):
            prev = _range_change(doc, prev, m)
            # "giảm từ 60 đến 70%": the verb before the lower bound makes both a change
            keep = prev.role is not Role.level
            out[-1] = prev.evolve(
                max=-m.value if keep and prev.value < 0 else m.value,
                unit=m.unit,
                unit_written=m.unit_written,
                end=m.end,
                unit_end=m.unit_end,
                item_end=m.item_end,
                tail_end=m.tail_end,
                item=m.item,
                role=prev.role if keep else m.role,
                basis=prev.basis if keep else m.basis,
            )
            continue
        out.append(m)
    return out


def _range_change(doc: Doc, low: Mention, high: Mention) -> Mention:
    """ "tăng (thêm) từ 5 đến 7%": a change verb before "từ" makes the range a change, of
    the basis written after it (else the verb's own)."""
    if low.role is not Role.level:
        return low
    before = doc.low[max(0, low.start - doc.lex.integer("windows.left")) : low.start]
    verb = doc.lex.pattern("role.range_lead").sub("", before)
    for rule in doc.lex.rules("role.changes"):
        if rule.pattern.search(verb):
            basis = high.basis or Basis(rule.text("basis"))
            return low.evolve(role=Role.change, basis=basis, value=low.value * rule.number("sign"))
    return low


def _bounds_a_range(doc: Doc, prev: Mention, m: Mention) -> bool:
    if prev.max is not None or prev.sentence != m.sentence:
        return False
    gap = doc.low[prev.end : m.start]
    before = doc.low[max(0, prev.start - 4) : prev.start]
    return before.endswith("từ ") and gap.strip() in {"đến", "tới", "-", "–"}


def merge_fields(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    """ "Trong 14 tỉnh của vùng, tỉnh đứng thứ 4": the count that opens the sentence names the
    field the rank after it is out of (GUIDELINE §1: a rank's denominator is no fact of its
    own, it is the rank's `of`); so does "Trong 8 lĩnh vực, có 3 lĩnh vực ..." for a count of
    the same things."""
    given = list(mentions)
    out: list[Mention] = []
    for k, m in enumerate(given):
        field = _field_of(doc, m)
        j = _counted_in(given, k) if field else None
        if j is not None:
            given[j] = given[j].evolve(of=m.value)
            continue
        if not _names_a_structure(doc, m):
            out.append(m)
    return out


def _names_a_structure(doc: Doc, m: Mention) -> bool:
    """ "thấp nhất trong 8 chỉ số thành phần", "trung bình của 63 tỉnh, thành phố": how many
    parts an index has, or the set an average or a ranking is taken over, not a measure."""
    lex = doc.lex
    return (
        m.unit is Unit.count
        and m.role is Role.level
        and lex.pattern("exclude.structure_left").search(m.left) is not None
        and lex.pattern("exclude.structure_right").match(m.right) is not None
    )


def _field_of(doc: Doc, m: Mention) -> bool:
    """A count led by "Trong" and closed by a comma: the field of what follows."""
    return (
        m.unit is Unit.count
        and m.role is Role.level
        and m.left.endswith("trong ")
        and doc.lex.pattern("rank.field_opens").search(m.left) is not None
        and doc.lex.pattern("rank.field_closes").match(doc.low, m.end) is not None
    )


def _counted_in(given: list[Mention], k: int) -> int | None:
    """The rank (or the count of the same things) after the field, in its sentence."""
    m = given[k]
    head = (m.item or "").split(" ")[0]
    for j in range(k + 1, len(given)):
        n = given[j]
        if n.sentence != m.sentence:
            return None
        same = n.unit is Unit.count and bool(head) and (n.item or "").startswith(head)
        if n.of is None and n.role is Role.level and (n.unit is Unit.rank or same):
            return j
    return None


def drop_footnote_marks(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    """`02 văn phòng đại diện 18;`: a bare number right after another count's item, with
    nothing of its own before the punctuation, is a footnote mark left by conversion."""
    out: list[Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        bare = m.unit is Unit.count and m.item is None and m.of is None
        if bare and prev is not None and prev.item is not None and prev.sentence == m.sentence:
            glued = not doc.low[prev.item_end : m.start].strip()
            if glued and doc.low[m.end : m.end + 1] in _FOOTNOTE_END:
                continue
        out.append(m)
    return out
