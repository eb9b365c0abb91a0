"""Text tables (rows of cells split by `|` or tabs, as the DOCX and HTML readers write them):
the header above a number gives its period, status, unit and role. Our own sample tables."""

from __future__ import annotations

import pytest

from chiso_ingest.extraction import extract
from chiso_ingest.formats import DOCX, read
from chiso_ingest.formats.base import Limits
from chiso_shared.facts import Fact
from tests.ingest.builders import make_docx

TITLE = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH QUẢNG NINH\nBÁO CÁO KẾT QUẢ NĂM 2023\n\n"
APPENDIX = (
    "STT | Chỉ tiêu | Đơn vị tính | Thực hiện 2022 | Thực hiện 2023 | Kế hoạch 2024 | "
    "So với cùng kỳ (%)\n"
    "1 | Tổng số thuê bao điện thoại | Thuê bao | 1.410.000 | 1.452.300 | 1.500.000 | 103,0\n"
    "2 | Doanh thu viễn thông | Tỷ đồng | 2.950 | 3.120,5 | 3.300 | 105,8\n"
    "3 | Tỷ lệ hồ sơ trực tuyến | % | 54,2 | 61,7 | 70 | \n"
)


def by_text(text: str) -> dict[str, Fact]:
    facts = extract(TITLE + text, doc="phu-luc.txt")
    return {f.text: f for f in facts}


def test_column_headers_date_and_qualify_the_cells_below() -> None:
    found = by_text(APPENDIX)
    assert "1" not in found and "3" not in found  # the STT column numbers rows
    assert [(found[t].period, found[t].status.value) for t in ("1.410.000", "1.452.300")] == [
        ("2022", "actual"),
        ("2023", "actual"),
    ]
    plan = found["1.500.000"]
    assert (plan.period, plan.status.value, plan.indicator) == (
        "2024",
        "target",
        "telecom.subscribers.total",
    )
    assert plan.label == "Tổng số thuê bao điện thoại"


def test_a_unit_column_gives_scale_and_unit() -> None:
    found = by_text(APPENDIX)
    revenue = found["3.120,5"]
    assert (revenue.value, revenue.unit.value, revenue.indicator) == (
        3_120_500_000_000,
        "VND",
        "telecom.revenue",
    )
    assert (found["61,7"].unit.value, found["70"].unit.value) == ("percent", "percent")
    assert found["70"].status.value == "target"


def test_a_comparing_column_holds_ratios_of_the_latest_result() -> None:
    found = by_text(APPENDIX)
    ratio = found["105,8"]  # "So với cùng kỳ (%)" beats the row's unit, "Tỷ đồng"
    assert (ratio.value, ratio.unit.value, ratio.role.value, ratio.basis) == (
        105.8,
        "percent",
        "ratio",
        "previous_period",
    )
    assert (ratio.period, ratio.status.value, ratio.indicator) == (
        "2023",
        "actual",
        "telecom.revenue",
    )


def test_tab_separated_rows_with_estimates_and_changes() -> None:
    table = (
        "Chỉ tiêu\tƯớc thực hiện 6 tháng đầu năm 2024\tTăng/giảm (%)\n"
        "Thuê bao băng rộng di động\t1.398.000\t-0,9\n"
        "Tỷ lệ văn bản ký số (%)\t96,5\t1,2\n"
    )
    found = by_text(table)
    level = found["1.398.000"]
    assert (level.period, level.status.value, level.indicator) == (
        "2024-S1",
        "estimate",
        "telecom.broadband_mobile.subscribers",
    )
    assert (found["0,9"].value, found["0,9"].role.value) == (-0.9, "change")
    assert (found["96,5"].unit.value, found["1,2"].role.value) == ("percent", "change")


@pytest.mark.parametrize(
    "table",
    [
        # no header row: the first row holds figures
        "Thuê bao di động | 1.712.900\nThuê bao cố định | 21.000\n",
        # a row with another number of cells than its header
        "Chỉ tiêu | Kế hoạch 2024\nThuê bao di động | 1.712.900 | thêm\n",
    ],
)
def test_rows_without_a_matching_header_read_as_prose(table: str) -> None:
    found = by_text(table)
    assert (found["1.712.900"].period, found["1.712.900"].status.value) == ("2023", "actual")


def test_a_docx_table_is_read_through_its_header() -> None:
    rows = [
        ["Chỉ tiêu", "Đơn vị tính", "Năm 2023", "Kế hoạch năm 2024"],
        ["Doanh thu bưu chính", "Triệu đồng", "85.400", "90.000"],
    ]
    parsed = read(make_docx([TITLE.strip()], [rows]), DOCX, Limits(), [DOCX])
    found = {f.text: f for f in extract(parsed.text, doc="bao-cao.docx")}
    assert (found["85.400"].value, found["85.400"].unit.value) == (85_400_000_000, "VND")
    assert (found["90.000"].period, found["90.000"].status.value) == ("2024", "target")
    assert found["90.000"].indicator == "postal.revenue"


def test_an_html_table_is_read_through_its_header() -> None:
    page = (
        "<html><body><article><h1>Báo cáo kết quả năm 2023 tỉnh Quảng Ninh</h1>"
        "<p>Sở Thông tin và Truyền thông tỉnh Quảng Ninh báo cáo kết quả công tác năm 2023 "
        "như sau. Toàn tỉnh phát triển hạ tầng số mạnh mẽ.</p><table>"
        "<tr><th>Chỉ tiêu</th><th>Đơn vị tính</th>"
        "<th>Thực hiện 2023</th><th>Kế hoạch 2024</th></tr>"
        "<tr><td>Doanh thu viễn thông</td><td>Tỷ đồng</td><td>3.120</td><td>3.300</td></tr>"
        "</table><p>Các chỉ tiêu khác đều đạt kế hoạch đề ra.</p></article></body></html>"
    )
    parsed = read(page.encode(), "text/html", Limits(), ["text/html"])
    found = {f.text: f for f in extract(parsed.text, doc="tin.html")}
    assert (found["3.120"].value, found["3.120"].period) == (3_120_000_000_000, "2023")
    assert (found["3.300"].period, found["3.300"].status.value) == ("2024", "target")


def test_a_two_row_header_with_a_caption_unit_and_column_numbers() -> None:
    table = (
        "ĐVT: triệu đồng\n"
        "| TT | Chỉ tiêu | Năm 2023 |  | Năm 2024 |\n"
        "|  |  | Kế hoạch | Thực hiện | Ước thực hiện |\n"
        "| (1) | (2) | (3) | (4) | (5) |\n"
        "| I | Bưu chính |  |  |  |\n"
        "| 1 | Doanh thu bưu chính | 42.000 | 43.560 | 47.000 |\n"
    )
    found = by_text(table)
    assert set(found) == {"42.000", "43.560", "47.000"}  # no column or row numbers
    assert [(f.period, f.status.value) for f in found.values()] == [
        ("2023", "target"),
        ("2023", "actual"),
        ("2024", "estimate"),
    ]
    assert {f.value for f in found.values()} == {42e9, 43.56e9, 47e9}
    assert found["42.000"].label == "Doanh thu bưu chính"


def test_units_in_brackets_of_row_labels_and_headers() -> None:
    rows = (
        "Chỉ tiêu | Năm 2023\n"
        "Doanh thu bưu chính (tỷ đồng) | 435,6\n"
        "Sản lượng bưu gửi (nghìn bưu gửi) | 3.420\n"
        "Tốc độ Internet cố định (Mbps) | 98,4\n"
        "Số điểm phục vụ bưu chính (điểm) | 571\n"
    )
    found = by_text(rows)
    assert [(f.value, f.unit.value) for f in found.values()] == [
        (435_600_000_000, "VND"),
        (3_420_000, "count"),
        (98.4, "Mbps"),
        (571, "count"),
    ]


def test_result_over_plan_columns_and_bracketed_decreases() -> None:
    table = (
        "Chỉ tiêu | TH 2023 | TH 2023/KH 2023 (%) | Tăng (+), giảm (-)\n"
        "Sản lượng bưu gửi (nghìn bưu gửi) | 3.150 | 104,8 | (270)\n"
        "a | Trong đó: bưu gửi quốc tế | 1.310 | 109,2 | 35\n"
    )
    found = by_text(table)
    ratio = found["104,8"]
    assert (ratio.role.value, ratio.basis, ratio.status.value) == ("ratio", "plan", "actual")
    assert (found["270"].value, found["270"].role.value) == (-270_000, "change")
    assert found["1.310"].status.value == "actual"  # the column says so, not "trong đó"
    assert "a" not in found
