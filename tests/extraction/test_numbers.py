"""Reading written numbers: both separator conventions, as extraction-notes §4 sets out."""

from __future__ import annotations

import pytest

from chiso_ingest.extraction.lexicon import lexicon
from chiso_ingest.extraction.numbers import parse_number


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("3.120.450", False, 3120450),
        ("1,500,000", False, 1500000),
        ("12,75", False, 12.75),
        ("64.2", False, 64.2),
        ("7.5", False, 7.5),
        ("312,000", False, 312000),
        ("4.216", False, 4216),
        ("3,415", True, 3.415),
        ("6.250", True, 6250),
        ("1.234.567,89", False, 1234567.89),
        ("1,234,567.89", False, 1234567.89),
        ("0,250", False, 0.25),
        ("05", False, 5),
        ("2731", False, 2731),
    ],
)
def test_parse_number(text: str, scale: bool, expected: float) -> None:
    assert parse_number(text, scale_follows=scale) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1.2.3", "12.34.567", "1,23,456"])
def test_malformed_grouping_is_no_number(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "left",
    [
        "ban hành kèm theo quyết định số ",
        "tổ chức vào ngày ",
        "hội nghị lần thứ ",
        "địa chỉ: phường ",
        "mô hình “",
        "tỉ lệ 24/",
        "doanh thu đạt ",
        "theo điều ",
        "cứ ",
        "xếp thứ 18, 29 và 41 trên ",
        "dịch vụ công mức độ 3, ",
        "trong năm, tỉnh có ",
        "bản tin tuần ",
        "",
    ],
)
def test_the_word_start_scan_finds_what_a_search_finds(left: str) -> None:
    """`exclude.left` is tried only where a word or a mark opens: its every choice must open
    there, so the scan answers as a plain search does."""
    from chiso_ingest.extraction.stages.numbers import _ends_with

    pattern = lexicon().pattern("exclude.left")
    start = len(left) - lexicon().integer("windows.cue")
    assert _ends_with(pattern, left, start) == (pattern.search(left, max(0, start)) is not None)
