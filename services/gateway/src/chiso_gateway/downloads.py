"""Views as downloads: a summary or a comparison as CSV or XLSX, headed in the reader's language.

Both formats carry the same table; the CSV starts with a byte order mark so that Excel opens
its Vietnamese as UTF-8, and the XLSX keeps numbers as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal

from chiso_gateway.cache import Payload
from chiso_gateway.insights import Language
from chiso_shared.tables import XLSX_MEDIA_TYPE, Cell, plain, xlsx_bytes

Format = Literal["json", "csv", "xlsx"]
Table = tuple[list[str], list[list[Cell]]]

XLSX = XLSX_MEDIA_TYPE  # the name the views import
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


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table[0])
    writer.writerows(["" if cell is None else plain(cell) for cell in row] for row in table[1])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def download(table: Table, format: Format, name: str) -> Payload:
    """The table as a file named `name` (without extension) in `format` (csv or xlsx)."""
    if format == "csv":
        body, media_type = csv_bytes(table), "text/csv; charset=utf-8"
    else:
        body, media_type = xlsx_bytes(*table, sheet=name), XLSX_MEDIA_TYPE
    disposition = f'attachment; filename="{name}.{format}"'
    return Payload(body=body, media_type=media_type, headers={"Content-Disposition": disposition})
