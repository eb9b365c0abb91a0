"""Text tables: rows of cells split by `|` or tabs, as the DOCX and HTML readers write them,
and tables copied out of a PDF or a DOCX without their bars: one cell per line, or columns
aligned by runs of spaces.

A report's appendix table says in its header what prose says around each number: the
period and status of a column ("Kế hoạch 2024", "Ước thực hiện 6 tháng"), its unit
("Tỷ lệ (%)") or that it compares ("So với cùng kỳ (%)"), and a row's unit may stand in
a column of its own ("Đơn vị tính: tỷ đồng"). This module finds the cells and the header
text above each; the engine decides what the words mean.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

_LINE = re.compile(r"[^\n]+")
_SEPARATOR = re.compile(r"\||\t")
# a Markdown rule under a header ("---|:---:")
_RULE = re.compile(r"[\s|:+\-–=]*")
# a header holds no figures; these are the digits it may hold: dates, years, month counts
# ("6 tháng"), codes glued to letters ("4G", "TT1") and column numbers ("(3)", "3=2/1")
_HEADER_DIGITS = re.compile(
    r"\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|\d{1,2}\s*/\s*\d{4}|(?:19|20)\d\d"
    r"|\d+(?=\s*tháng)|\d+[^\W\d_]+|[^\W\d_]+\d+|\(\s*\d{1,2}\s*\)|\(\s*/\s*\d{1,3}\s*\)"
    # a field or a scale ("(hạng/63)", "(điểm/100)") and a service tier ("mức độ 3, 4")
    r"|\(\s*[^\W\d_]+\s*/\s*\d{1,3}\s*\)|mức\s+(?:độ\s+)?\d(?:\s*(?:,|và|-)\s*\d)*"
)
_DIGIT = re.compile(r"\d")
_SCORE_UNIT = "điểm"
_YEAR_CELL = re.compile(r"(?:năm\s+)?(?:19|20)\d\d")
# a row that numbers the columns under a header: "A | B | 1 | 2 | 3=2/1" or "(1) | (2)"
# a column number's name ("4" of "4=3/1", "(7)" of "(7)=(5)/(4)") and a ratio's formula
_FORMULA_NAME = re.compile(r"\W*(\w+)")
_FORMULA = re.compile(r"\W*\w+\W*=\W*\w+\W*/\W*(?P<over>\w+)\W*")
_COLUMN_NUMBER = re.compile(r"\W*(?:[a-zđ]|\d{1,2}(?:\s*[=+\-*/x:]\s*\d{1,2})*)?\W*")
# a row's code, not its label: "I", "a"; in a row's first cell also "1", "1.2"
_ROW_CODE = re.compile(r"\W*(?:[ivxlc]+|[a-zđ])\W*")
_FIRST_CELL_CODE = re.compile(r"\W*(?:\d{1,2}(?:\.\d{1,2})*|[ivxlc]+|[a-zđ])\W*")


Span = tuple[int, int]
# a table: where it starts, its column headers and its rows of cells
_Grid = tuple[int, list[str], list[list[Span]]]


@dataclass(frozen=True, slots=True)
class Cell:
    start: int
    end: int
    column: int
    header: str  # the lower-cased text of its column's header cell; "" without one
    row_unit: str  # the lower-cased text of its row's unit column; "" without one
    row_label: tuple[int, int] | None  # the row's first cell with words: what it measures
    caption_unit: str = ""  # the unit a caption line gives the whole table ("ĐVT: tỷ đồng")
    numbering: bool = False  # column numbers or the row's own code: its digits are no facts
    table: int = -1  # where its table (its header) starts
    against: str = ""  # the header of the column its column divides by ("4=3/1"): a ratio


@dataclass(frozen=True, slots=True)
class Tables:
    starts: tuple[int, ...]
    cells: tuple[Cell, ...]
    rows: tuple[Span, ...] = ()  # rows written over several lines (one cell per line)

    def cell_at(self, pos: int) -> Cell | None:
        i = bisect_right(self.starts, pos) - 1
        if i >= 0 and self.cells[i].start <= pos < self.cells[i].end:
            return self.cells[i]
        return None


@dataclass(frozen=True, slots=True)
class TableWords:
    """The lexicon's words for table headers."""

    unit_header: re.Pattern[str]  # the header of a row-unit column ("Đơn vị tính")
    unit_caption: re.Pattern[str]  # a caption naming the whole table's unit ("ĐVT: tỷ đồng")
    index_header: re.Pattern[str]  # the header of a row-number column ("STT")
    column_name: re.Pattern[str]  # words that name a column ("Chỉ tiêu", "Kế hoạch", a year)
    rank_header: re.Pattern[str]  # the header of a column of ranks ("Xếp hạng", "Hạng")
    wrapped_period: re.Pattern[str]  # a header line a figure of its period goes on ("Quý I/")
    wrapped_line: re.Pattern[str]  # a line that goes on in the next ("Ước TH so với")
    group_header: re.Pattern[str]  # a header over sub-headers ("So sánh (%)", "Năm 2024")
    group_period: re.Pattern[str]  # the period a group header gives them ("năm 2024")
    period_column: re.Pattern[str]  # a column of a period's, a plan's figures ("TH 2023")
    change_column: re.Pattern[str]  # a column of changes told in words ("So với 2021")


def find_tables(low: str, words: TableWords, text: str | None = None) -> Tables:
    """The cells of every table in the lower-cased text `low` (`text`, as written, tells a
    wrapped cell's next line by its small letter): rows split by `|` or tabs, and rows
    copied from a PDF with one cell per line or columns aligned by spaces."""
    cells: list[Cell] = []
    grids = [*_split_grids(low), *_lined_grids(low, words, low if text is None else text)]
    for start, headers, body in grids:
        caption = _caption_unit(low, start, words.unit_caption)
        cells.extend(_grid_cells(low, headers, body, words, caption, start))
    cells.sort(key=lambda cell: cell.start)
    rows = sorted(
        (row[0][0], row[-1][1])
        for _, _, body in grids
        for row in body
        if row and "\n" in low[row[0][0] : row[-1][1]]
    )
    return Tables(tuple(c.start for c in cells), tuple(cells), tuple(rows))


def _split_grids(low: str) -> list[_Grid]:
    """The header and rows of every block of `|`- or tab-split rows."""
    grids: list[_Grid] = []
    for block in _blocks(low):
        rows = [_split(low, *r) for r in block if not _RULE.fullmatch(low, *r)]
        headers, body = _headers(low, rows)
        grids.append((block[0][0], headers, body))
    return grids


def _caption_unit(low: str, start: int, unit_caption: re.Pattern[str]) -> str:
    """The unit named in the two lines above a table, or in its first line."""
    above = low.rfind("\n", 0, max(0, low.rfind("\n", 0, max(0, start - 1))))
    first_end = low.find("\n", start)
    window = low[above + 1 : first_end if first_end >= 0 else len(low)]
    found = unit_caption.search(window)
    if found is None:
        return ""
    if found.group("unit") is None:
        return _SCORE_UNIT  # a table of index scores
    return " ".join(found.group("unit").split())


def _blocks(low: str) -> list[list[tuple[int, int]]]:
    """Runs of consecutive lines that hold at least two cells."""
    blocks: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    last_end = -2
    for m in _LINE.finditer(low):
        row = (
            _SEPARATOR.search(low, m.start(), m.end()) is not None
            and len(_split(low, m.start(), m.end())) >= 2
        )
        if current and m.start() == last_end + 1 and _ELLIPSIS.fullmatch(low, *m.span()):
            last_end = m.end()  # "..." between rows leaves rows out; the table goes on
            continue
        if row and current and m.start() == last_end + 1:
            current.append(m.span())
        else:
            if current:
                blocks.append(current)
            current = [m.span()] if row else []
        last_end = m.end()
    if current:
        blocks.append(current)
    return blocks


def _split(low: str, start: int, end: int) -> list[tuple[int, int]]:
    """A row's cells, without the outer bars of `| a | b |` (a row that does not open with a
    bar keeps its last cell even when empty: `a | b | ` has three)."""
    line = low[start:end]
    a, b = 0, len(line)
    stripped = line.strip()
    if stripped.startswith("|"):
        a = line.index("|") + 1
        if stripped.endswith("|") and line.rindex("|") >= a:
            b = line.rindex("|")
    cells: list[tuple[int, int]] = []
    cell_start = a
    for sep in _SEPARATOR.finditer(line, a, b):
        cells.append((start + cell_start, start + sep.start()))
        cell_start = sep.end()
    cells.append((start + cell_start, start + b))
    return cells


def _grid_cells(
    low: str,
    headers: list[str],
    body: list[list[Span]],
    words: TableWords,
    caption: str,
    table: int,
) -> list[Cell]:
    unit_column = next((i for i, h in enumerate(headers) if words.unit_header.fullmatch(h)), None)
    against = _formula_bases(low, headers, body, words.period_column)
    cells: list[Cell] = []
    for spans in body:
        numbering = bool(headers) and all(_numbers_column(low, span) for span in spans)
        aligned = len(spans) == len(headers)
        unit = ""
        if aligned and unit_column is not None:
            unit = " ".join(low[slice(*spans[unit_column])].split())
        label = next(
            (
                span
                for column, span in enumerate(spans)
                if column != unit_column
                and any(ch.isalpha() for ch in low[slice(*span)])
                and not _ROW_CODE.fullmatch(low, *span)
            ),
            None,
        )
        # "1 | Doanh thu ..." numbers its row, whether or not the header lines up
        coded = label is not None and _FIRST_CELL_CODE.fullmatch(low, *spans[0]) is not None
        for column, (a, b) in enumerate(spans):
            header = headers[column] if aligned else ""
            row_label = label if label is not None and label[1] <= a else None
            skip = numbering or (coded and column == 0)
            basis = against[column] if aligned else ""
            cells.append(Cell(a, b, column, header, unit, row_label, caption, skip, table, basis))
    return cells


def _formula_bases(
    low: str, headers: list[str], body: list[list[Span]], period_column: re.Pattern[str]
) -> list[str]:
    """For each column, the header of the column it divides by, as the row of column numbers
    says ("A B 1 2 3=2/1": column "3" is column "2" over column "1"), when that column is
    a period's or a plan's (`period_column`); "" for the others."""
    against = [""] * len(headers)
    for spans in body:
        if not headers or not all(_numbers_column(low, span) for span in spans):
            continue
        tokens = [token for span in spans for token in low[slice(*span)].split()]
        if len(tokens) != len(headers):
            continue
        named = ((k, _FORMULA_NAME.match(token)) for k, token in enumerate(tokens))
        names = {found.group(1): k for k, found in named if found is not None}
        for k, token in enumerate(tokens):
            ratio = _FORMULA.fullmatch(token)
            over = (
                headers[names[ratio.group("over")]]
                if ratio and ratio.group("over") in names
                else ""
            )
            if period_column.search(over):  # a share of another metric is no ratio
                against[k] = over
        break
    return against


def _numbers_column(low: str, span: Span) -> bool:
    """A cell of a row of column numbers: "3", "c", "4=3/1", "(2)", "(1) (2)"."""
    if _COLUMN_NUMBER.fullmatch(low, *span):
        return True
    return all(_NUMBERING_CELL.fullmatch(token) for token in low[slice(*span)].split())


def _headers(low: str, rows: list[list[Span]]) -> tuple[list[str], list[list[Span]]]:
    """The column headers and the rows under them. Consecutive header rows of the same width
    are read together, a merged cell's text carried into the empty cells after it:
    "Năm 2023 | | Năm 2024" over "Kế hoạch | Thực hiện | Ước" is "năm 2023 kế hoạch", ...
    """
    headers: list[str] = []
    first = ""
    taken = 0
    for spans in rows:
        texts = [" ".join(low[a:b].split()) for a, b in spans]
        # a first header row may stop at its last merged cell ("So sánh (%)" over two)
        wider = bool(headers) and len(spans) > len(headers) and texts[0] == ""
        if not _is_header(low, spans) or (headers and len(spans) != len(headers) and not wider):
            break
        headers += [""] * (len(spans) - len(headers)) if headers else []
        # a header's second row leaves the first cell empty or repeats it (a merged cell);
        # a row naming a group ("I | Bưu chính | |") does neither
        if headers and texts[0] not in ("", first):
            break
        first = first or texts[0]
        if headers:
            carried = _carry(headers)
            headers = [
                " ".join(x for x in (h, t) if x) for h, t in zip(carried, texts, strict=True)
            ]
        else:
            headers = texts
        taken += 1
    return headers, rows[taken:]


def _is_header(low: str, spans: list[tuple[int, int]]) -> bool:
    texts = [low[a:b] for a, b in spans]
    words = any(any(ch.isalpha() for ch in text) for text in texts)
    return words and not any(_DIGIT.search(_HEADER_DIGITS.sub(" ", text)) for text in texts)


def _carry(headers: list[str]) -> list[str]:
    """A merged header cell covers the empty cells to its right."""
    carried: list[str] = []
    for i, text in enumerate(headers):
        carried.append(text or (carried[-1] if i > 1 else ""))
    return carried


# Tables copied out of a PDF or a DOCX lose their bars: one cell per line ("stacked"), or
# columns aligned by runs of spaces ("spaced"). Both are read only when a header block of
# column names stands over at least two full rows of exactly its width, whose numeric
# cells are numbers in the same columns in every row.
_LINE_CELL = re.compile(r"\S+(?:\s\S+)*")  # a cell of a line: words split by single spaces
_NUMBER_CELL = re.compile(r"[(\-+–]?\s*\d[\d.,]*\s*\)?\s*%?")
_EMPTY_CELL = re.compile(r"\(?[-–—x.…]+(?: [-–—x.…]+)*\)?")  # "-", "x", "...", "... ..."
# a line that only says rows are left out: "...", "(...)", "… …"
_ELLIPSIS = re.compile(r"[\s|]*\(?(?:\.{2,}|…)\)?(?:[\s|]*\(?(?:\.{2,}|…)\)?)*[\s|]*")
_LONG_LINE = 200  # a longer line is a paragraph: it ends a run of table lines
_LONG_HEADER = 60  # a longer line is no header cell
_LONG_CELL = 120  # a longer line is no cell
_MIN_ROWS = 2
_MIN_STACKED = 3  # a one-cell-per-line table has at least this many columns
_MAX_COLUMNS = 12
_MAX_LEADING = 3  # a row's cells before its first number: a code, a label, a unit
_MAX_BLANKS = 3  # empty lines in a row a table one cell per line may hold (empty cells)
_MAX_GROUP = 2  # the lines of a group row between rows: its code and its name
_ALIGN_SLACK = 2  # a wrapped header's word may start this far left of its column
_MAX_TITLE = 2  # title lines without figures right above a header (without an STT column)

# a line of a run: where it starts, its cells and their kinds (`_kind`, one letter each)
_Line = tuple[int, list[Span], str]
# a candidate row: its cells and their kinds
_Row = tuple[list[Span], str]


def _lined_grids(low: str, words: TableWords, text: str) -> list[_Grid]:
    """The tables without bars: one cell per line, or columns aligned by spaces."""
    runs = _runs(low)
    wrapped = [
        grid
        for run in _across_blanks(low, runs)
        if len(run) > _MIN_ROWS
        for grid in _wrapped_grids(low, text, run, words)
    ]
    grids: list[_Grid] = list(wrapped)
    for run in runs:
        if len(run) > _MIN_ROWS:
            stacked = _stacked_grids(low, run, words)
            grids.extend(g for g in stacked if not any(_overlap(g, w) for w in wrapped))
            grids.extend(_spaced_grids(low, run, words))
    return grids


def _across_blanks(low: str, runs: list[list[_Line]]) -> list[list[_Line]]:
    """Runs of one cell per line joined across a few blank lines, each an empty cell (a
    table copied one cell per line writes an empty cell as an empty line)."""
    joined: list[list[_Line]] = []
    for run in runs:
        last = joined[-1][-1] if joined else None
        gap = low[last[1][-1][1] : run[0][0]] if last is not None else ""
        blanks = gap.count("\n") - 1
        if last is None or gap.strip() or not 0 < blanks <= _MAX_BLANKS:
            joined.append(list(run))
            continue
        at = last[1][-1][1] + 1
        for _ in range(blanks):
            at = low.index("\n", at) + 1
            joined[-1].append((at - 1, [(at - 1, at - 1)], "e"))
        joined[-1].extend(run)
    return joined


def _overlap(one: _Grid, other: _Grid) -> bool:
    """Two tables share lines: the one whose cells wrap is read, not the other."""
    return one[0] < other[2][-1][-1][1] and other[0] < one[2][-1][-1][1]


def _runs(low: str) -> list[list[_Line]]:
    """Runs of consecutive non-blank lines, not too long, without `|` or tabs."""
    runs: list[list[_Line]] = []
    current: list[_Line] = []
    last_end = -2
    for m in _LINE.finditer(low):
        a, b = m.span()
        fits = b - a <= _LONG_LINE and _SEPARATOR.search(low, a, b) is None
        cells = [c.span() for c in _LINE_CELL.finditer(low, a, b)] if fits else []
        if current and (not cells or a != last_end + 1):
            runs.append(current)
            current = []
        if cells:
            current.append((a, cells, "".join(_kind(low, cell) for cell in cells)))
        last_end = b
    if current:
        runs.append(current)
    return runs


def _header_cell(low: str, span: Span) -> bool:
    """A cell a header may hold: short, no figures but years and column numbers, no
    sentence's end."""
    text = low[slice(*span)]
    if len(text) > _LONG_HEADER or text[-1] in ".:;,":
        return False
    return not _DIGIT.search(text) or not _DIGIT.search(_HEADER_DIGITS.sub(" ", text))


def _names_columns(low: str, spans: list[Span], words: TableWords) -> bool:
    """A header line: it names a column, and has words but no figures."""
    texts = [low[slice(*span)] for span in spans]
    return any(words.column_name.search(text) for text in texts) and _is_header(low, spans)


def _stacked_grids(low: str, run: list[_Line], words: TableWords) -> list[_Grid]:
    """Tables of one cell per line: a block of header lines, then rows of as many lines."""
    grids: list[_Grid] = []
    i = 0
    above: list[int] = []  # the header-like single cells just before line i: `_header_kind`
    while i < len(run):
        cells = run[i][1]
        if len(cells) == 1 and _header_cell(low, cells[0]):
            above.append(_header_kind(low, cells[0], words))
            i += 1
            continue
        found = None
        if len(cells) == 1 and any(kind & _NAMES for kind in above):
            found = _stacked_at(low, run, i, above, words)
        if found is not None:
            grids.append(found[0])
            i = found[1]
        else:
            i += 1
        above = []
    return grids


_NAMES, _WORDS, _INDEX, _NUMBERING = 2, 1, 4, 8  # bits of a header cell's kind


def _header_kind(low: str, span: Span, words: TableWords) -> int:
    """_NAMES if the header cell names a column, _WORDS if it has words, _INDEX if it heads
    the row-number column, _NUMBERING if it numbers a column ("(3)")."""
    text = " ".join(low[slice(*span)].split())
    kind = _NAMES if words.column_name.search(text) else 0
    kind |= _INDEX if words.index_header.fullmatch(text) else 0
    kind |= _NUMBERING if _DIGIT.search(text) and _COLUMN_NUMBER.fullmatch(text) else 0
    return kind | (_WORDS if any(ch.isalpha() for ch in text) else 0)


def _stacked_at(
    low: str, run: list[_Line], i: int, above: list[int], words: TableWords
) -> tuple[_Grid, int] | None:
    """The table whose first row holds line i, its header among the header-like lines
    `above` it. Its header starts at the row-number column's ("STT"), else as high as it
    can; the widest first; under it may stand a group row ("I", "Bưu chính") or a row of
    column numbers ("(1)", "(2)"), and the first row's label and unit are short lines like
    header cells, before line i."""
    index = [n for n, kind in enumerate(above) if kind & _INDEX]
    # a header right over its first row first: a group row between them is tried only when
    # none fits, lest real header lines ("Hạng 2019", "Hạng 2018") pass for a group row
    for grouped in (False, True):
        for lead in index[-1:] or range(min(len(above), _MAX_TITLE + 1)):
            for width in range(min(len(above) - lead, _MAX_COLUMNS), _MIN_STACKED - 1, -1):
                kinds = above[lead : lead + width]
                if not (any(k & _NAMES for k in kinds) and any(k & _WORDS for k in kinds)):
                    continue
                for group in _groups(above, lead + width, width):
                    if (group > 0) != grouped:
                        continue
                    start = i - len(above) + lead
                    body = start + width + group
                    found = _stacked_table(low, run, start, width, body, words)
                    if found is not None:
                        return found
    return None


def _groups(above: list[int], end: int, width: int) -> Iterator[int]:
    """How many of the header-like lines from `end` (a header's end) on may stand between a
    header `width` cells wide and its first row: none, a group row of one or two lines with
    words, or a row of column numbers; the rest, up to line i, open the first row."""
    for group in (*range(_MAX_GROUP + 1), width):
        before = len(above) - end - group
        if not 0 <= before <= min(_MAX_LEADING, width - 1):
            continue
        lines = above[end : end + group]
        if all(k & (_NUMBERING if group == width else _WORDS) for k in lines):
            yield group


def _stacked_table(
    low: str, run: list[_Line], start: int, width: int, body: int, words: TableWords
) -> tuple[_Grid, int] | None:
    """The table with a header of `width` lines from line `start`, its rows from `body`
    (a row of column numbers between them is a row of its own, whose cells are no facts)."""
    shape = _shape(run, body, width)
    if len(shape) != width or not _fits(shape, _shape(run, body + width, width)):
        return None  # not two rows of the same shape: the quick test
    first = " ".join(low[slice(*run[start][1][0])].split())
    rows = _take_rows(low, width, first, _stacked_rows(run, body, width), words)
    if len(rows) < _MIN_ROWS:
        return None
    header = [run[n][1][0] for n in range(start, start + width)]
    texts = [" ".join(low[slice(*span)].split()) for span in header]
    more, end = _rows_after_groups(low, run, body + width * len(rows), width, first, words)
    if body - start == 2 * width:
        rows.insert(0, [run[n][1][0] for n in range(start + width, body)])
    return (header[0][0], texts, rows + more), end


def _rows_after_groups(
    low: str, run: list[_Line], end: int, width: int, first: str, words: TableWords
) -> tuple[list[list[Span]], int]:
    """The rows after line `end` across group rows ("II", "Viễn thông"), while the rows
    after each group row have the shape of the table's first row; where they end."""
    shape = _shape(run, end - width, width)
    rows: list[list[Span]] = []
    while True:
        group = next(
            (
                g
                for g in range(1, _MAX_GROUP + 1)
                if all(run[n][2] == "t" for n in range(end, min(end + g, len(run))))
                and _shape(run, end + g, width) == shape
            ),
            None,
        )
        if group is None:
            return rows, end
        more = _take_rows(low, width, first, _stacked_rows(run, end + group, width), words)
        if not more:
            return rows, end
        rows += more
        end += group + width * len(more)


def _shape(run: list[_Line], start: int, width: int) -> str:
    """The kinds of the `width` lines from line `start`: the shape of a row there."""
    return "".join(kind for _, _, kind in run[start : start + width])


def _with_code_cell(line: _Line, header: list[Span], width: int) -> _Row:
    """A row one cell short whose label stands under the header's second column ("    Cộng
    100,00  81,07" under "TT  Lĩnh vực  Điểm ..."): a total row without its code; an
    empty first cell keeps its figures under their columns."""
    start, cells, kinds = line
    if len(cells) != width - 1 or len(header) < 2 or not kinds.startswith("t"):
        return cells, kinds
    if abs(cells[0][0] - start - (header[1][0] - header[0][0])) > _ALIGN_SLACK:
        return cells, kinds
    return [(cells[0][0], cells[0][0]), *cells], "e" + kinds


def _spaced_row(
    low: str,
    line: _Line,
    header: list[Span],
    texts: list[str],
    unit: int | None,
    changes: list[int],
) -> _Row:
    """A space-aligned line as a row under `texts`: a total row's missing code, a unit run
    into its label, changes told in words."""
    cells, kinds = _with_code_cell(line, header, len(texts))
    column = None
    if unit is not None:  # where the unit column starts, from its header's line start
        h = header[unit - (len(texts) - len(header))]
        column = h[0] - (low.rfind("\n", 0, h[0]) + 1)
    cells, kinds = _with_unit_cell(low, line[0], cells, kinds, len(texts), unit, column)
    return _told_changes(low, cells, kinds, changes)


def _told_changes(low: str, cells: list[Span], kinds: str, changes: list[int]) -> _Row:
    """Cells under a column of changes told in words ("tăng 1 bậc", "giữ nguyên" under "So
    với 2021"): a figure where they hold one, else an empty mark."""
    if not changes or len(cells) <= max(changes):
        return cells, kinds
    told = list(kinds)
    for k in changes:
        if told[k] == "t":
            told[k] = "n" if _DIGIT.search(low, *cells[k]) else "e"
    return cells, "".join(told)


def _with_unit_cell(
    low: str,
    row: int,
    cells: list[Span],
    kinds: str,
    width: int,
    unit: int | None,
    column: int | None,
) -> _Row:
    """A row one cell short whose label runs into its unit with one space ("Doanh thu bưu
    chính, viễn thông Tỷ đồng    402,6") under a header with a unit column: the label is
    split where the unit column starts (`column`, from the line's start), else an empty
    unit cell keeps the figures under their columns."""
    if unit is None or column is None or len(cells) != width - 1:
        return cells, kinds
    if kinds[:unit] != "t" * unit or "t" in kinds[unit:]:
        return cells, kinds
    a, b = cells[unit - 1]
    for at in range(
        max(a + 1, row + column - _ALIGN_SLACK), min(b, row + column + _ALIGN_SLACK + 1)
    ):
        if low[at - 1] == " " and low[at].isalpha() and at - 1 > a:
            split = [(a, at - 1), (at, b)]
            return [*cells[: unit - 1], *split, *cells[unit:]], kinds[:unit] + "t" + kinds[unit:]
    return [*cells[:unit], (b, b), *cells[unit:]], kinds[:unit] + "e" + kinds[unit:]


def _stacked_rows(run: list[_Line], start: int, width: int) -> Iterator[_Row]:
    for first in range(start, len(run) - width + 1, width):
        lines = run[first : first + width]
        if any(len(cells) != 1 for _, cells, _ in lines):
            return
        yield [cells[0] for _, cells, _ in lines], "".join(kind for _, _, kind in lines)


def _spaced_grids(low: str, run: list[_Line], words: TableWords) -> list[_Grid]:
    """Tables of one row per line, columns split by runs of spaces, under a header line."""
    grids: list[_Grid] = []
    i = 0
    while i + 1 < len(run):
        start, header, _ = run[i]
        rows: list[list[Span]] = []
        below = i + 1
        kept: list[int] = []
        numbers: list[list[Span]] = []
        if len(header) >= 2 and _names_columns(low, header, words):
            texts = [" ".join(low[slice(*span)].split()) for span in header]
            below = _wrapped_header(low, run, i, texts)
            # a header indented over the label column leaves that column's cell blank
            indented = header[0][0] - start >= 2
            if indented and below < len(run) and len(run[below][1]) == len(header) + 1:
                texts.insert(0, "")
            numbers = _spaced_numbers(low, run, below)
            below += len(numbers)
            kept = _spaced_kept(low, run, below, words)
            unit = next((k for k, t in enumerate(texts) if words.unit_header.fullmatch(t)), None)
            changes = [k for k, t in enumerate(texts) if words.change_column.search(t)]
            lines = (_spaced_row(low, run[n], header, texts, unit, changes) for n in kept)
            rows = _take_rows(low, len(texts), texts[0], lines, words)
        if len(rows) >= _MIN_ROWS or (rows and _dated_columns(texts)):
            grids.append((header[0][0], texts, [*numbers, *rows]))
        i = kept[len(rows) - 1] + 1 if rows else i + 1
    return grids


def _spaced_numbers(low: str, run: list[_Line], below: int) -> list[list[Span]]:
    """The line of column numbers under a header ("(1) (2)  (3)  (4)=(3)/(2)"), if any."""
    if below >= len(run):
        return []
    cells = run[below][1]
    tokens = low[cells[0][0] : cells[-1][1]].split()
    if len(tokens) < _MIN_NUMBERING or not all(_NUMBERING_CELL.fullmatch(t) for t in tokens):
        return []
    return [cells]


def _spaced_kept(low: str, run: list[_Line], below: int, words: TableWords) -> list[int]:
    """The lines from `below` that may be rows: a line of dots ("...", "(...)") leaves rows
    out and the table goes on, as it does over a line or two of words without figures (a
    label's next line, a section's name, a page's footer), but not over a new header."""
    kept: list[int] = []
    words_only = 0
    for n in range(below, len(run)):
        kinds = run[n][2]
        if "n" in kinds or (kinds.strip("e") and "t" not in kinds):
            kept.append(n)
            words_only = 0
        elif kinds.strip("e"):
            words_only += 1
            if words_only > _MAX_GROUP or _names_columns(low, run[n][1], words):
                break
    return kept


def _dated_columns(texts: list[str]) -> bool:
    """A header of years after its label ("Năm  2019  2020  2021"): one row under it is a
    table ("Hạng  27  22  19")."""
    return len(texts) >= 3 and all(_YEAR_CELL.fullmatch(text) for text in texts[1:])


def _wrapped_header(low: str, run: list[_Line], i: int, texts: list[str]) -> int:
    """The header of line `i` wrapped onto the lines below it ("Xếp" over "hạng" over
    "(/63)"): each word cell joins the header cell it stands under (`texts`, in place).
    Returns the first line after the header."""
    line_start, header, _ = run[i]
    starts = [a - line_start for a, _ in header]
    j = i + 1
    while j < len(run):
        start, cells, _ = run[j]
        years = all(_YEAR_CELL.fullmatch(low, *cell) for cell in cells)  # "Ước thực" / "2024"
        if len(cells) >= len(header) or not (years or _is_header(low, cells)):
            break
        for a, b in cells:
            column = bisect_right(starts, a - start + _ALIGN_SLACK) - 1
            if column < 0:
                break
            texts[column] = f"{texts[column]} {' '.join(low[a:b].split())}"
        j += 1
    return j


def _take_rows(
    low: str, width: int, first_header: str, candidates: Iterable[_Row], words: TableWords
) -> list[list[Span]]:
    """The leading candidates that are rows under a header `width` cells wide: exactly as
    wide, with numbers in the same columns as the first row (`_first_row`)."""
    rows: list[list[Span]] = []
    kinds = ""
    for row, found in candidates:
        if len(row) != width:
            break
        if "x" in found or (not rows and not _first_row(found, first_header, words)):
            break
        if rows and not _fits(kinds, found):
            break
        if found[0] not in "te" and not _FIRST_CELL_CODE.fullmatch(low, *row[0]):
            break
        kinds = kinds or found
        rows.append(row)
    return rows


def _fits(kinds: str, other: str) -> bool:
    """Two rows' kinds agree: the same, or an empty mark ("-") for a number."""
    return len(kinds) == len(other) and all(
        k == o or "e" in (k, o) for k, o in zip(kinds, other, strict=True)
    )


def _first_row(kinds: str, first_header: str, words: TableWords) -> bool:
    """A first row: words (a label, a unit) then numbers only, after a row number under
    an STT header or a rank under a "Hạng" header (a ranking opens each row with its place)."""
    if kinds[0] == "n" and (
        words.index_header.fullmatch(first_header) or words.rank_header.search(first_header)
    ):
        kinds = kinds[1:]
    numbers = kinds.find("n")
    return numbers > 0 and kinds[0] == "t" and "t" not in kinds[numbers:]


def _kind(low: str, span: Span) -> str:
    """A cell's kind: "n" a number, "e" an empty mark ("-"), "t" words, "x" no cell (a
    sentence or a paragraph)."""
    text = low[slice(*span)]
    if _NUMBER_CELL.fullmatch(text):
        return "n"
    if _EMPTY_CELL.fullmatch(text):
        return "e"
    if len(text) > _LONG_CELL or text.endswith("."):
        return "x"
    return "t"


# Tables one cell per line whose cells wrap: a header cell over several lines ("Thực hiện" /
# "9 tháng" / "năm 2022"), a group header over sub-headers ("So sánh (%)" over "Cùng kỳ" /
# "Kế hoạch"), a label over two or three lines. A cell's next line opens with a small letter,
# a bracket or a figure that is no number of its own; the rows are told by their figures:
# every row ends with as many numbers (or empty marks), the same in most rows.
_NUMBERING_CELL = re.compile(
    r"\(?\s*(?:[a-zđ]|\d{1,2})\s*\)?(?:\s*[=+\-*/x:]\s*\(?\s*\d{1,2}\s*\)?)*"
)
_ROW_NUMBER = re.compile(r"\d{1,2}(?:\.\d{1,2})*[.)]\s")
_CODE_LINE = re.compile(r"\d{1,3}")
_ACRONYM = re.compile(r"[A-ZĐ]{2,6}")
_FOOTNOTE_MARK = re.compile(r"\(\s*(?:\d|\*+)\s*\)")
_SHORT_NUMBER = re.compile(r"(?:19|20)\d\d|\d{1,2}")
_MIN_NUMBERING = 3
_MAX_ZONE = 40  # header lines (and the first row's label) at most
# a header cell that is a whole period: months so far and their year ("9 tháng 2022")
_PERIOD_CELL = re.compile(r"\d{1,2}\s+tháng(?:\s+đầu)?(?:\s+năm)?\s*/?\s*(?:19|20)\d\d\s*")
_MAX_VALUES = 10
_FIRST_RUNS = 4  # the runs of figures that tell how many a row has


def _wrapped_grids(low: str, text: str, run: list[_Line], words: TableWords) -> list[_Grid]:
    """The tables of one cell per line in `run`, cells wrapped over lines (a line of several
    cells is one cell of words here: a page's footer, or no such table)."""
    lines = [(cells[0][0], cells[-1][1]) for _, cells, _ in run]
    kinds = _wrapped_kinds(low, lines, run, words)
    # where the next line that is not words is: a header block is never longer than _MAX_ZONE
    after = [len(lines)] * (len(lines) + 1)
    for n in range(len(lines) - 1, -1, -1):
        after[n] = after[n + 1] if kinds[n] == "t" else n
    grids: list[_Grid] = []
    i = 0
    while i < len(lines):
        found = None
        if kinds[i] == "t" and after[i] - i <= _MAX_ZONE and _header_cell(low, lines[i]):
            found = _wrapped_at(low, text, lines, kinds, i, words)
        if found is None:
            i += 1
            continue
        grids.append(found[0])
        i = found[1]
    return grids


def _wrapped_kinds(low: str, lines: list[Span], run: list[_Line], words: TableWords) -> list[str]:
    """The lines' kinds, "w" for a line that goes on the header or label cell above it: a
    figure only in a header (after three lines of words; rows have two figures in a row);
    a line of several cells is words ("t") or no cell ("x")."""
    kinds = [kind if len(kind) == 1 else "x" if "x" in kind else "t" for _, _, kind in run]
    header = 0  # lines of words in a row: three open a header
    for n in range(1, len(lines)):  # "Quý I/" over "2024", "Tháng" over "11": a header's
        header = header + 1 if kinds[n - 1] == "t" else 0 if kinds[n - 1] in "ne" else header
        if kinds[n] in "nt" and kinds[n - 1] in "tw":
            prev = " ".join(low[slice(*lines[n - 1])].split())
            wrapped = words.wrapped_line if kinds[n] == "t" else words.wrapped_period
            short = kinds[n] == "t" or _SHORT_NUMBER.fullmatch(low, *lines[n]) is not None
            if short and (kinds[n] == "t" or header >= _MIN_STACKED) and wrapped.search(prev):
                kinds[n] = "w"
            elif _FOOTNOTE_MARK.fullmatch(low, *lines[n]):
                kinds[n] = "w"  # a header's or a label's footnote mark: "(1)" under "Thực hiện"
    return kinds


def _continues(low: str, text: str, span: Span, kind: str, words: TableWords) -> bool:
    """The line goes on the cell of the line before: it opens with a small letter or a
    bracket, or with a figure that is no number of its own ("9 tháng", "2024" under "Quý I/")."""
    first = text[span[0]]
    if _ACRONYM.fullmatch(text, *span) and not words.column_name.search(low, *span):
        return True  # "Thuê bao" over "FTTH"; not "TT", "ĐVT", which name a column
    if first.isdigit():  # "9 tháng", "30/9/2024"; not a row's code "1. Doanh thu"
        if kind == "t" and _PERIOD_CELL.fullmatch(low, *span):
            return False  # "9 tháng 2022" under "ĐVT": a column's whole header
        return kind == "w" or (kind == "t" and _ROW_NUMBER.match(text, *span) is None)
    return first.islower() or first == "(" or kind == "w"


def _cells_of(
    low: str, text: str, lines: list[Span], kinds: list[str], a: int, b: int, words: TableWords
) -> list[Span]:
    """Lines a..b grouped into cells: a wrapped cell's lines are one."""
    cells: list[Span] = []
    for n in range(a, b):
        if cells and _continues(low, text, lines[n], kinds[n], words):
            cells[-1] = (cells[-1][0], lines[n][1])
        else:
            cells.append(lines[n])
    return cells


def _numbering_at(low: str, lines: list[Span], n: int) -> int:
    """How many lines from n number the columns in order ("A", "B", "1", "2", "3=2/1",
    "(4)"): letters from "a", then figures from 1; 0 if fewer than three or no figure."""
    end, letter, number = n, "a", 1
    while end < len(lines):
        cell = " ".join(low[slice(*lines[end])].split())
        if not _NUMBERING_CELL.fullmatch(cell):
            break
        head = cell.strip("( ")[:1]
        if head == letter and number == 1:
            letter = chr(ord(letter) + 1)
        elif _DIGIT.match(cell.strip("( ")) and int(re.split(r"\D", cell.strip("( "))[0]) == number:
            number += 1
        else:
            break
        end += 1
    return end - n if end - n >= _MIN_NUMBERING and number > 1 else 0


def _header_end(
    low: str, lines: list[Span], kinds: list[str], i: int, words: TableWords
) -> tuple[int, int] | None:
    """Where the header block from line i ends: at a row of column numbers (and how many
    they are) or at the first figure."""
    if not words.column_name.search(low, *lines[i]) or words.unit_caption.search(low, *lines[i]):
        return None
    # the header: up to a row of column numbers, or to the first figure
    f, width = i, 0
    while f < len(lines) and f - i < _MAX_ZONE and kinds[f] in "tw":
        if width := _numbering_at(low, lines, f):
            break
        if not _header_cell(low, lines[f]) and kinds[f] == "t" and f - i < 2:
            return None
        f += 1
    if (
        f >= len(lines)
        or f - i < _MIN_STACKED
        or kinds[f] in "xw"
        or (not width and kinds[f] == "t")
    ):
        return None
    if any(words.index_header.fullmatch(low, *lines[n]) for n in range(i + 1, f)):
        return None  # a title above: the header starts at its row-number column ("STT")
    return f, width


def _wrapped_at(
    low: str, text: str, lines: list[Span], kinds: list[str], i: int, words: TableWords
) -> tuple[_Grid, int] | None:
    """The table whose header starts at line i, and the line after its last row."""
    zone_end = _header_end(low, lines, kinds, i, words)
    if zone_end is None:
        return None
    f, width = zone_end
    body = f + width
    zone = _cells_of(low, text, lines, kinds, i, f, words)
    names = [" ".join(low[slice(*c)].split()) for c in zone]
    coded = bool(words.index_header.fullmatch(names[0]) or words.rank_header.search(names[0]))
    unit = any(words.unit_header.fullmatch(t) for t in names[int(coded) + 1 :])
    segments = list(islice(_segments(low, lines, kinds, body, [], []), 2 * _FIRST_RUNS + 1))
    values = _row_values(low, lines, segments, coded) or _one_value(segments, len(zone), coded)
    if values is None:
        return None
    width_body = int(coded) + 1 + int(unit) + values
    if width and width != width_body:
        return None
    # without column numbers or a row number, the first row's label (and unit) close the
    # header block
    lead = not width and not (segments and len(segments[0][1]) < values)
    said = 1 + int(unit)  # the first row's cells of words, its label's head too if wrapped
    said += not unit and len(zone) - 1 > width_body and _short_line(text, zone[-2])
    header = zone[: len(zone) - said] if lead else zone
    headers = _column_headers(low, header, width_body, words)
    if headers is None or not header:
        return None
    start = next(n for n in range(i, f + 1) if n == f or lines[n][0] >= header[-1][1])
    repeats = [_texts(low, lines[a:b]) for a, b in ((i, start), (f, body)) if b > a]
    numbers = _no_facts(low, lines, kinds, (i, f, body))
    segments_from = _segments(low, lines, kinds, start if lead else body, repeats, numbers)
    rows, end = _records(
        low, text, lines, kinds, segments_from, (values, coded, unit), numbers, words
    )
    if len(rows) < _MIN_ROWS:
        return None
    return (lines[i][0], headers, [*numbers, *rows]), end


def _no_facts(
    low: str, lines: list[Span], kinds: list[str], bounds: tuple[int, int, int]
) -> list[list[Span]]:
    """The header's figures of its periods ("Tháng" / "11"), then the column numbers (from
    line `f` to the body): rows whose figures are no facts."""
    i, f, body = bounds
    numbers = [[lines[n]] for n in range(i, f) if kinds[n] == "w" and _DIGIT.search(low, *lines[n])]
    return numbers + ([lines[f:body]] if body > f else [])


def _texts(low: str, spans: list[Span]) -> list[str]:
    return [" ".join(low[slice(*span)].split()) for span in spans]


def _segments(
    low: str,
    lines: list[Span],
    kinds: list[str],
    start: int,
    repeats: list[list[str]],
    numbers: list[list[Span]],
) -> Iterator[tuple[str, list[int]]]:
    """The lines from `start` as runs of words ("t") and of figures ("n", empty marks too),
    leaving out the header and column numbers repeated after a page break (those go to
    `numbers`: no facts); up to a paragraph, or a run longer than a row's."""
    current: tuple[str, list[int]] | None = None
    n = start
    while n < len(lines) and kinds[n] != "x":
        skip = next((len(rep) for rep in repeats if _texts(low, lines[n : n + len(rep)]) == rep), 0)
        if skip:
            if _numbering_at(low, lines, n) == skip:
                numbers.append(lines[n : n + skip])
            n += skip
            continue
        kind = "n" if kinds[n] in "ne" else "t"
        if current is not None and current[0] == kind:
            current[1].append(n)
            if len(current[1]) > _MAX_ZONE:
                break
        else:
            if current is not None:
                yield current
            current = (kind, [n])
        n += 1
    if current is not None:
        yield current


def _row_values(
    low: str, lines: list[Span], segments: list[tuple[str, list[int]]], coded: bool
) -> int | None:
    """How many figures a row has: the most frequent length of the first runs of figures
    (of two or more); in a table whose rows open with a number, a run also holds the next
    row's number."""
    runs = [seg for kind, seg in segments if kind == "n"]
    # a run ending in a row number, or in an empty line (the end of the table)
    lasts = [lines[seg[-1]] for seg in runs]
    ends = [a == b or _CODE_LINE.fullmatch(low, a, b) is not None for a, b in lasts]
    lengths = [len(seg) for seg in runs]
    counts: dict[int, int] = {}
    for length in lengths[:_FIRST_RUNS]:
        if 2 <= length <= _MAX_VALUES + 1:
            counts[length] = counts.get(length, 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda k: (counts[k], -k))
    if coded and (best - 1 in counts or all(ends[n] for n, k in enumerate(lengths) if k == best)):
        best -= 1  # each run ends with the next row's number
    return best if best >= 2 else None


def _one_value(segments: list[tuple[str, list[int]]], zone: int, coded: bool) -> int | None:
    """A table of two columns, a place and its figure ("Xã" / "Số thuê bao"): its header of
    two cells and the first row's label, then rows of one figure each."""
    runs = [len(seg) for kind, seg in segments if kind == "n"]
    single = len(runs) >= _MIN_STACKED and all(length == 1 for length in runs)
    return 1 if single and zone == 3 and not coded else None


def _column_headers(low: str, cells: list[Span], width: int, words: TableWords) -> list[str] | None:
    """The texts of `width` columns from header cells: a group header ("So sánh (%)",
    "Năm 2024") read before its sub-headers covers as many of them as each group has."""
    names = [" ".join(low[slice(*c)].split()) for c in cells]
    groups = len(names) - width
    if groups < 0:
        return None
    if groups == 0:
        return names
    for each in range(2, len(names)):
        top = len(names) - groups * each
        if top < 2:
            return None
        found = [k for k in range(1, top) if words.group_header.fullmatch(names[k])]
        if len(found) == groups:
            break
    else:
        return None
    subs = iter(names[top:])
    headers: list[str] = []
    for k in range(top):
        period = words.group_period.search(names[k]) if k in found else None
        if period is not None:  # "tháng 11 năm 2024", "tháng 11 năm 2023 cùng kỳ"
            head, tail = names[k][: period.start()], names[k][period.start() :]
            headers.extend(" ".join(f"{next(subs)} {tail} {head}".split()) for _ in range(each))
        elif k in found:  # "so sánh (%) cùng kỳ"
            headers.extend(f"{names[k]} {next(subs)}" for _ in range(each))
        else:
            headers.append(names[k])
    return headers


def _records(
    low: str,
    text: str,
    lines: list[Span],
    kinds: list[str],
    segments: Iterable[tuple[str, list[int]]],
    shape: tuple[int, bool, bool],
    numbers: list[list[Span]],
    table: TableWords,
) -> tuple[list[list[Span]], int]:
    """The rows: words (a label over lines, a unit), then `values` figures; words between
    rows without figures of their own (a group row, a page's footer) are no cells, nor is a
    lone number between rows (a page's number) unless rows open with one. `shape`: how many
    figures a row has, whether it opens with a number, whether it has a unit cell."""
    values, coded, _ = shape
    rows: list[list[Span]] = []
    said: list[int] = []
    code: int | None = None
    end = 0
    for kind, seg in segments:
        if kind == "t":
            said = said + seg
            continue
        if len(seg) < values:  # a page's number: the words before it are the page's
            if not _page_number(low, lines, seg, coded, numbers):
                break
            code, said = (seg[-1] if coded else None), []
            continue
        rest = seg[values:]
        stray = rest and not (coded and len(rest) == 1) and any(kinds[n] == "n" for n in rest)
        cells = _cells_of(low, text, lines, kinds, said[0], said[-1] + 1, table) if said else []
        if stray or not cells:
            break
        row = _row_words(text, cells, lines[code] if code is not None else None, shape)
        rows.append(row + [lines[n] for n in seg[:values]])
        end, said = seg[values - 1] + 1, []
        if any(lines[n][0] == lines[n][1] for n in rest):
            break  # an empty line after a full row: the table ends there
        code = rest[0] if coded and len(rest) == 1 and kinds[rest[0]] == "n" else None
    return rows, end


def _page_number(
    low: str, lines: list[Span], seg: list[int], coded: bool, numbers: list[list[Span]]
) -> bool:
    """A run of figures too short for a row is a page's number (then the next row's own
    number, if rows open with one): it goes to `numbers`."""
    pages = seg[:-1] if coded else seg
    if len(pages) > 1 or not all(_CODE_LINE.fullmatch(low, *lines[n]) for n in seg):
        return False
    numbers.extend([lines[n]] for n in pages)
    return True


def _row_words(
    text: str, cells: list[Span], code: Span | None, shape: tuple[int, bool, bool]
) -> list[Span]:
    """A row's cells before its figures: its number (empty without one) if rows open with
    one, its label (the last cells of words), its unit if the table has a unit column."""
    _, coded, unit = shape
    label, *tail = cells[-2:] if unit and len(cells) >= 2 else cells[-1:]
    if not unit and len(cells) >= 2 and _short_line(text, cells[-2]):
        label = (cells[-2][0], label[1])  # a name wrapped before a capital ("Đắk" / "Nông")
    row = [code or (label[0], label[0])] if coded else []
    row.append(label)
    if unit:
        row.append(tail[0] if tail else (label[1], label[1]))
    return row


_SHORT_LINE = 16


def _short_line(text: str, span: Span) -> bool:
    """A short line of words: the head of a name wrapped over two lines."""
    part = text[slice(*span)]
    return len(part) < _SHORT_LINE and "\n" not in part and not _DIGIT.search(part)
