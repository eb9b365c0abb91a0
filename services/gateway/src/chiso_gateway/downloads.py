"""Views as downloads: a summary or a comparison as CSV or XLSX, headed in the reader's language.

Both formats carry the same table; the CSV starts with a byte order mark so that Excel opens
its Vietnamese as UTF-8, and the XLSX keeps numbers as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal

import xlsxwriter

from chiso_gateway.cache import Payload
from chiso_gateway.insights import Language

Format = Literal["json", "csv", "xlsx"]
Cell = str | float | int | None
Table = tuple[list[str], list[list[Cell]]]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Column titles: (Vietnamese, English).
SUMMARY_COLUMNS = (
    ("Mã chỉ tiêu", "Indicator code"),
    ("Chỉ tiêu", "Indicator"),
    ("Đơn vị", "Unit"),
    ("Kỳ", "Period"),
    ("Giá trị", "Value"),
    ("Trạng thái", "Status"),
    ("Kỳ trước", "Previous period"),
    ("Giá trị kỳ trước", "Previous value"),
    ("Thay đổi", "Change"),
    ("Thay đổi (%)", "Change (%)"),
    ("Thay đổi báo cáo nêu (%)", "Reported change (%)"),
    ("Tài liệu nguồn", "Source document"),
    ("Cảnh báo chất lượng", "Quality flags"),
)
COMPARE_COLUMNS = (
    ("Mã địa bàn", "Area code"),
    ("Địa bàn", "Area"),
    ("Chỉ tiêu", "Indicator"),
    ("Đơn vị", "Unit"),
    ("Kỳ", "Period"),
    ("Giá trị", "Value"),
    ("Trạng thái", "Status"),
    ("Tài liệu nguồn", "Source document"),
    ("Cảnh báo chất lượng", "Quality flags"),
)


def _titles(columns: Sequence[tuple[str, str]], lang: Language) -> list[str]:
    return [vi if lang == "vi" else en for vi, en in columns]


def _document(source: dict[str, Any] | None) -> str:
    return str(source["document"]) if source else ""


def _flags(item: dict[str, Any], lang: Language) -> str:
    """The messages of a value's open data-quality flags, in the table's language."""
    notes = item.get("quality") or []
    return "; ".join(note[f"message_{lang}"] for note in notes if note["status"] == "open")


def summary_table(data: dict[str, Any], lang: Language) -> Table:
    rows: list[list[Cell]] = []
    for row in data["indicators"]:
        change = row.get("change") or {}
        rows.append(
            [
                row["indicator"],
                row["name"],
                row["unit"],
                row["period"],
                row["value"],
                row["status"],
                change.get("previous_period"),
                change.get("previous_value"),
                change.get("absolute"),
                change.get("percent"),
                row.get("reported_change_percent"),
                _document(row.get("source")),
                _flags(row, lang),
            ]
        )
    return _titles(SUMMARY_COLUMNS, lang), rows


def compare_table(data: dict[str, Any], lang: Language) -> Table:
    rows: list[list[Cell]] = []
    for unit in data["areas"]:
        for point in unit["observations"]:
            rows.append(
                [
                    unit["area"],
                    unit["name"],
                    data["name"],
                    data["unit"],
                    point["period"],
                    point["value"],
                    point["status"],
                    _document(point.get("source")),
                    _flags(point, lang),
                ]
            )
    return _titles(COMPARE_COLUMNS, lang), rows


def _plain(cell: Cell) -> Cell:
    """A whole number as an integer (2980000, not 2980000.0), anything else as it is."""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return int(cell)
    return cell


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table[0])
    writer.writerows(["" if cell is None else _plain(cell) for cell in row] for row in table[1])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(table: Table, sheet: str) -> bytes:
    out = io.BytesIO()
    # in_memory: no temporary files; strings_to_numbers off, so codes such as "01" stay text.
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    titles, rows = table
    worksheet.write_row(0, 0, titles, bold)
    for number, row in enumerate(rows, start=1):
        worksheet.write_row(number, 0, [_plain(cell) for cell in row])
    worksheet.freeze_panes(1, 0)
    worksheet.autofit()
    workbook.close()
    return out.getvalue()


def download(table: Table, format: Format, name: str) -> Payload:
    """The table as a file named `name` (without extension) in `format` (csv or xlsx)."""
    if format == "csv":
        body, media_type = csv_bytes(table), "text/csv; charset=utf-8"
    else:
        body, media_type = xlsx_bytes(table, name), XLSX
    disposition = f'attachment; filename="{name}.{format}"'
    return Payload(body=body, media_type=media_type, headers={"Content-Disposition": disposition})
