"""Tables as spreadsheet files: the XLSX writing every service's downloads share.

xlsxwriter writes the workbook; numbers stay numbers (a whole number as an integer) and codes
such as "01" stay text. An XLSX is a zip whose directory comes last, so it cannot be streamed:
`XlsxTable` takes rows as they are read (chunk by chunk) and gives the bytes when closed.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Sequence

import xlsxwriter

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A worksheet holds at most this many rows, the title row included (Excel's limit).
XLSX_MAX_ROWS = 1_048_576

Cell = str | float | int | bool | None


def plain(cell: Cell) -> Cell:
    """A whole number as an integer (2980000, not 2980000.0), anything else as it is."""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return int(cell)
    return cell


class XlsxTable:
    """One sheet with a bold, frozen title row, filled row by row.

    `large`: the rows are flushed to a temporary file as they are written (xlsxwriter's
    constant_memory mode), so a bulk export holds one row at a time, not the whole sheet;
    the columns then keep their default width (autofit needs every row in memory).
    """

    def __init__(self, titles: Sequence[str], sheet: str, *, large: bool = False) -> None:
        self.out = io.BytesIO()
        self.large = large
        # strings_to_numbers off, so codes such as "01" stay text
        options = {"constant_memory": True} if large else {"in_memory": True}
        self.workbook = xlsxwriter.Workbook(self.out, {**options, "strings_to_numbers": False})
        self.sheet = self.workbook.add_worksheet(sheet[:31])  # Excel's longest sheet name
        self.sheet.write_row(0, 0, list(titles), self.workbook.add_format({"bold": True}))
        self.sheet.freeze_panes(1, 0)
        self.rows = 0

    def write(self, rows: Iterable[Sequence[Cell]]) -> None:
        for row in rows:
            self.rows += 1
            self.sheet.write_row(self.rows, 0, [plain(cell) for cell in row])

    def close(self) -> bytes:
        if not self.large:
            self.sheet.autofit()
        self.workbook.close()
        return self.out.getvalue()

    async def aclose(self) -> bytes:
        """`close` off the event loop: zipping a large sheet takes a while."""
        return await asyncio.to_thread(self.close)


def xlsx_bytes(titles: Sequence[str], rows: Iterable[Sequence[Cell]], sheet: str) -> bytes:
    """A small table (held in memory, columns fitted to their text) as an XLSX file."""
    table = XlsxTable(titles, sheet)
    table.write(rows)
    return table.close()
