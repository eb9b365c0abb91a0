"""Text tables: rows of cells split by `|` or tabs, as the DOCX and HTML readers write them.

A report's appendix table says in its header what prose says around each number: the
period and status of a column ("Kế hoạch 2024", "Ước thực hiện 6 tháng"), its unit
("Tỷ lệ (%)") or that it compares ("So với cùng kỳ (%)"), and a row's unit may stand in
a column of its own ("Đơn vị tính: tỷ đồng"). This module finds the cells and the header
text above each; the engine decides what the words mean.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

_LINE = re.compile(r"[^\n]+")
_SEPARATOR = re.compile(r"\||\t")
# a Markdown rule under a header ("---|:---:")
_RULE = re.compile(r"[\s|:+\-–=]*")
# a header holds no figures; these are the digits it may hold: dates, years, month counts
# ("6 tháng"), codes glued to letters ("4G", "TT1") and column numbers ("(3)", "3=2/1")
_HEADER_DIGITS = re.compile(
    r"\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|\d{1,2}\s*/\s*\d{4}|(?:19|20)\d\d"
    r"|\d+(?=\s*tháng)|\d+[^\W\d_]+|[^\W\d_]+\d+|\(\s*\d{1,2}\s*\)"
)
_DIGIT = re.compile(r"\d")
# a row that numbers the columns under a header: "A | B | 1 | 2 | 3=2/1" or "(1) | (2)"
_COLUMN_NUMBER = re.compile(r"\W*(?:[a-zđ]|\d{1,2}(?:\s*[=+\-*/x:]\s*\d{1,2})*)?\W*")
# a row's code, not its label: "I", "a"; in a row's first cell also "1", "1.2"
_ROW_CODE = re.compile(r"\W*(?:[ivxlc]+|[a-zđ])\W*")
_FIRST_CELL_CODE = re.compile(r"\W*(?:\d{1,2}(?:\.\d{1,2})*|[ivxlc]+|[a-zđ])\W*")


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


@dataclass(frozen=True, slots=True)
class Tables:
    starts: tuple[int, ...]
    cells: tuple[Cell, ...]

    def cell_at(self, pos: int) -> Cell | None:
        i = bisect_right(self.starts, pos) - 1
        if i >= 0 and self.cells[i].start <= pos < self.cells[i].end:
            return self.cells[i]
        return None


def find_tables(low: str, unit_header: re.Pattern[str], unit_caption: re.Pattern[str]) -> Tables:
    """The cells of every block of table rows in the lower-cased text `low`."""
    cells: list[Cell] = []
    for block in _blocks(low):
        caption = _caption_unit(low, block[0][0], unit_caption)
        cells.extend(_block_cells(low, block, unit_header, caption))
    return Tables(tuple(c.start for c in cells), tuple(cells))


def _caption_unit(low: str, start: int, unit_caption: re.Pattern[str]) -> str:
    """The unit named in the two lines above a table, or in its first line."""
    above = low.rfind("\n", 0, max(0, low.rfind("\n", 0, max(0, start - 1))))
    first_end = low.find("\n", start)
    window = low[above + 1 : first_end if first_end >= 0 else len(low)]
    found = unit_caption.search(window)
    return " ".join(found.group("unit").split()) if found else ""


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


def _block_cells(
    low: str, block: list[tuple[int, int]], unit_header: re.Pattern[str], caption: str
) -> list[Cell]:
    rows = [r for r in block if not _RULE.fullmatch(low, *r)]
    headers, body = _headers(low, rows)
    unit_column = next((i for i, h in enumerate(headers) if unit_header.fullmatch(h)), None)
    cells: list[Cell] = []
    for row in body:
        spans = _split(low, *row)
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
            cells.append(Cell(a, b, column, header, unit, row_label, caption, skip))
    return cells


def _headers(low: str, rows: list[tuple[int, int]]) -> tuple[list[str], list[tuple[int, int]]]:
    """The column headers and the rows under them. Consecutive header rows of the same width
    are read together, a merged cell's text carried into the empty cells after it:
    "Năm 2023 | | Năm 2024" over "Kế hoạch | Thực hiện | Ước" is "năm 2023 kế hoạch", ...
    """
    headers: list[str] = []
    first = ""
    taken = 0
    for row in rows:
        spans = _split(low, *row)
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
