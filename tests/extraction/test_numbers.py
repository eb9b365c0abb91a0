"""Reading written numbers: both separator conventions, as extraction-notes §4 sets out."""

from __future__ import annotations

import pytest

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
