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
# a header holds no figures: only years, and digits glued to words ("6 tháng" is allowed)
_FIGURE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w.,]*\s*tháng)")
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True, slots=True)
class Cell:
    start: int
    end: int
    column: int
    header: str  # the lower-cased text of its column's header cell; "" without one
    row_unit: str  # the lower-cased text of its row's unit column; "" without one
    row_label: tuple[int, int] | None  # the row's first cell with words: what it measures


@dataclass(frozen=True, slots=True)
class Tables:
    starts: tuple[int, ...]
    cells: tuple[Cell, ...]

    def cell_at(self, pos: int) -> Cell | None:
        i = bisect_right(self.starts, pos) - 1
        if i >= 0 and self.cells[i].start <= pos < self.cells[i].end:
            return self.cells[i]
        return None


def find_tables(low: str, unit_header: re.Pattern[str]) -> Tables:
    """The cells of every block of table rows in the lower-cased text `low`."""
    cells: list[Cell] = []
    for block in _blocks(low):
        cells.extend(_block_cells(low, block, unit_header))
    return Tables(tuple(c.start for c in cells), tuple(cells))


def _blocks(low: str) -> list[list[tuple[int, int]]]:
    """Runs of consecutive lines that hold at least two cells."""
    blocks: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    last_end = -2
    for m in _LINE.finditer(low):
        row = _SEPARATOR.search(low, m.start(), m.end()) is not None
        if row and len(_split(low, m.start(), m.end())) >= 2 and m.start() == last_end + 1:
            current.append(m.span())
        elif row and len(_split(low, m.start(), m.end())) >= 2:
            if current:
                blocks.append(current)
            current = [m.span()]
        else:
            if current:
                blocks.append(current)
            current = []
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
    low: str, block: list[tuple[int, int]], unit_header: re.Pattern[str]
) -> list[Cell]:
    rows = [r for r in block if not _RULE.fullmatch(low, *r)]
    if not rows:
        return []
    header_cells = _split(low, *rows[0])
    has_header = not any(_FIGURE.search(_strip_years(low[a:b])) for a, b in header_cells)
    headers = [" ".join(low[a:b].split()) for a, b in header_cells] if has_header else []
    unit_column = next((i for i, h in enumerate(headers) if unit_header.fullmatch(h)), None)
    cells: list[Cell] = []
    for row in rows[1:] if has_header else rows:
        spans = _split(low, *row)
        aligned = len(spans) == len(headers)
        unit = ""
        if aligned and unit_column is not None:
            unit = " ".join(low[slice(*spans[unit_column])].split())
        label = next(
            (
                span
                for column, span in enumerate(spans)
                if column != unit_column and any(ch.isalpha() for ch in low[slice(*span)])
            ),
            None,
        )
        for column, (a, b) in enumerate(spans):
            header = headers[column] if aligned else ""
            row_label = label if label is not None and label[1] <= a else None
            cells.append(Cell(a, b, column, header, unit, row_label))
    return cells


def _strip_years(text: str) -> str:
    return _YEAR.sub(" ", text)
