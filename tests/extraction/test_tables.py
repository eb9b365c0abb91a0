"""Tables that reach the extractor through the DOCX and HTML readers, which write them as
rows of cells split by `|`, and through the PDF reader, which gives a table's cells one per
line; the header above a number gives its period, status and unit.
Cases on text tables themselves are data: cases/tables.toml. Our own sample tables."""

from __future__ import annotations

import pytest

from chiso_ingest.extraction import extract
from chiso_ingest.formats import DOCX, read
from chiso_ingest.formats.base import Limits
from tests.ingest.builders import make_docx, make_pdf, unicode_font

TITLE = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH QUẢNG NINH\nBÁO CÁO KẾT QUẢ NĂM 2023\n\n"


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


def test_a_pdf_table_with_one_cell_per_line_is_read_through_its_header() -> None:
    if unicode_font() is None:
        pytest.skip("no DejaVu font to write Vietnamese into a PDF")
    cells = ["STT", "Chỉ tiêu", "Đơn vị tính", "Năm 2022", "Kế hoạch năm 2024"]
    cells += ["1", "Doanh thu viễn thông", "Tỷ đồng", "2.950", "3.300"]
    cells += ["2", "Tỷ lệ hồ sơ trực tuyến", "%", "54,2", "70"]
    pdf = "application/pdf"
    parsed = read(make_pdf([TITLE + "\n".join(cells)]), pdf, Limits(), [pdf])
    found = {f.text: f for f in extract(parsed.text, doc="bao-cao.pdf")}
    assert (found["2.950"].value, found["2.950"].period) == (2_950_000_000_000, "2022")
    assert (found["3.300"].period, found["3.300"].status.value) == ("2024", "target")
    assert (found["54,2"].unit.value, found["54,2"].period) == ("percent", "2022")
    assert "1" not in found and "2" not in found
