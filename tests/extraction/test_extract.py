"""What holds for any input: no exception, exact NFC spans, sorted facts, valid models.

The extraction behaviour cases (sentence -> expected facts) are data: cases/*.toml, run by
test_cases.py."""

from __future__ import annotations

import unicodedata

import pytest

from chiso_ingest.extraction import EXTRACTOR_VERSION, extract
from chiso_shared.facts import Fact

HEADER = "Báo cáo kết quả công tác thông tin và truyền thông tỉnh Nghệ An năm 2024.\n"


def facts(body: str) -> list[Fact]:
    return extract(HEADER + body, doc="test.txt")


def test_version_is_a_string() -> None:
    assert EXTRACTOR_VERSION.count(".") == 2


@pytest.mark.parametrize("text", ["", "   ", "\x00\xff\ufffd" * 500, "năm", "12", "%%%/100"])
def test_never_raises_and_returns_a_list(text: str) -> None:
    assert isinstance(extract(text, doc="x.txt"), list)


def test_large_input_does_not_raise() -> None:
    body = "Toàn tỉnh có 1.234 điểm phục vụ, tăng 2,5% so với cùng kỳ. " * 2000
    assert len(facts(body)) == 4000


def test_offsets_refer_to_nfc_text() -> None:
    body = unicodedata.normalize("NFD", "Tổng số thuê bao di động đạt 1.250.300 thuê bao.")
    text = HEADER + body
    found = extract(text, doc="nfd.txt")
    nfc = unicodedata.normalize("NFC", text)
    assert [nfc[f.start : f.end] for f in found] == ["1.250.300"]


def test_facts_sorted_by_start() -> None:
    found = facts("Có 12 trạm, 30 điểm và 45 xã; tỷ lệ đạt 90%.")
    assert [f.start for f in found] == sorted(f.start for f in found)


NATIONAL = (
    "BÁO CÁO\nKết quả thực hiện nhiệm vụ tháng 9 và 9 tháng năm 2024\n"
    "Doanh thu bưu chính tháng 9 ước đạt 4.100 tỷ đồng, tăng 8,5% so với cùng kỳ. "
    "Lũy kế 9 tháng, doanh thu bưu chính ước đạt 38.200 tỷ đồng. "
    "Cả nước có 21,8 triệu thuê bao băng rộng cố định (+6%). "
    "Doanh thu công nghiệp ICT gấp 1,3 lần so với cùng kỳ.\n"
    "II. PHƯƠNG HƯỚNG NHIỆM VỤ THÁNG 10/2024\n"
    "Phấn đấu tổ chức 03 hội nghị chuyên đề.\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Năm 2023 có " + "1.000 trạm, " * 3000, 3000),
        ("Năm 2023; " * 5000, 0),
        ("năm 2023 " + "“3 " * 5000, None),
        ("năm 2023 " + "9" * 5000, None),
    ],
)
def test_dense_or_odd_input_keeps_exact_spans(text: str, expected: int | None) -> None:
    # How long these take is measured by bench/bench_extract.py (pathological inputs), not here.
    found = extract(text, doc="stress.txt")
    if expected is not None:
        assert len(found) == expected
    for fact in found:
        assert text[fact.start : fact.end] == fact.text


def test_every_fact_passes_model_validation() -> None:
    for text in (NATIONAL, HEADER + "Có 431/431 xã; tăng 5 bậc; đạt 3-4 giờ/ngày, 12 tỷ USD."):
        for f in extract(text, doc="v.txt"):
            assert Fact.model_validate(f.model_dump()) == f
