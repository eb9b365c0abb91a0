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

_LINE = re.compile(r"[^\n]+")
_SEPARATOR = re.compile(r"\||\t")
# a Markdown rule under a header ("---|:---:")
_RULE = re.compile(r"[\s|:+\-–=]*")
# a header holds no figures; these are the digits it may hold: dates, years, month counts
# ("6 tháng"), codes glued to letters ("4G", "TT1") and column numbers ("(3)", "3=2/1")
_HEADER_DIGITS = re.compile(
    r"\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|\d{1,2}\s*/\s*\d{4}|(?:19|20)\d\d"
    r"|\d+(?=\s*tháng)|\d+[^\W\d_]+|[^\W\d_]+\d+|\(\s*\d{1,2}\s*\)|\(\s*/\s*\d{1,3}\s*\)"
)
_DIGIT = re.compile(r"\d")
_SCORE_UNIT = "điểm"
_YEAR_CELL = re.compile(r"(?:năm\s+)?(?:19|20)\d\d")
# a row that numbers the columns under a header: "A | B | 1 | 2 | 3=2/1" or "(1) | (2)"
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


def find_tables(low: str, words: TableWords) -> Tables:
    """The cells of every table in the lower-cased text `low`: rows split by `|` or tabs,
    and rows copied from a PDF with one cell per line or columns aligned by spaces."""
    cells: list[Cell] = []
    grids = [*_split_grids(low), *_lined_grids(low, words)]
    for start, headers, body in grids:
        caption = _caption_unit(low, start, words.unit_caption)
        cells.extend(_grid_cells(low, headers, body, words.unit_header, caption, start))
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
    unit_header: re.Pattern[str],
    caption: str,
    table: int,
) -> list[Cell]:
    unit_column = next((i for i, h in enumerate(headers) if unit_header.fullmatch(h)), None)
    cells: list[Cell] = []
    for spans in body:
        numbering = bool(headers) and all(_COLUMN_NUMBER.fullmatch(low, *span) for span in spans)
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
            cells.append(Cell(a, b, column, header, unit, row_label, caption, skip, table))
    return cells


def _headers(low: str, rows: list[list[Span]]) -> tuple[list[str], list[list[Span]]]:
    """The column headers and the rows under them. Consecutive header rows of the same width
    are read together, a merged cell's text carried into the empty cells after it:
    "Năm 2023 | | Năm 2024" over "Kế hoạch | Thực hiện | Ước" is "năm 2023 kế hoạch", ...
    """
    headers: list[str] = []
    first = ""
    taken = 0
    for spans in rows:
        if not _is_header(low, spans) or (headers and len(spans) != len(headers)):
            break
        texts = [" ".join(low[a:b].split()) for a, b in spans]
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
_MAX_GROUP = 2  # the lines of a group row between rows: its code and its name
_ALIGN_SLACK = 2  # a wrapped header's word may start this far left of its column
_MAX_TITLE = 2  # title lines without figures right above a header (without an STT column)

# a line of a run: where it starts, its cells and their kinds (`_kind`, one letter each)
_Line = tuple[int, list[Span], str]
# a candidate row: its cells and their kinds
_Row = tuple[list[Span], str]


def _lined_grids(low: str, words: TableWords) -> list[_Grid]:
    """The tables without bars: one cell per line, or columns aligned by spaces."""
    grids: list[_Grid] = []
    for run in _runs(low):
        if len(run) > _MIN_ROWS:
            grids.extend(_stacked_grids(low, run, words))
            grids.extend(_spaced_grids(low, run, words))
    return grids


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
        if len(header) >= 2 and _names_columns(low, header, words):
            texts = [" ".join(low[slice(*span)].split()) for span in header]
            below = _wrapped_header(low, run, i, texts)
            # a header indented over the label column leaves that column's cell blank
            indented = header[0][0] - start >= 2
            if indented and below < len(run) and len(run[below][1]) == len(header) + 1:
                texts.insert(0, "")
            # a line of dots between rows ("...", "(...)") leaves rows out; the table goes on
            kept = [n for n in range(below, len(run)) if run[n][2].strip("e")]
            lines = (_with_code_cell(run[n], header, len(texts)) for n in kept)
            rows = _take_rows(low, len(texts), texts[0], lines, words)
        if len(rows) >= _MIN_ROWS or (rows and _dated_columns(texts)):
            grids.append((header[0][0], texts, rows))
        i = kept[len(rows) - 1] + 1 if rows else i + 1
    return grids


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
        if len(cells) >= len(header) or not _is_header(low, cells):
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
