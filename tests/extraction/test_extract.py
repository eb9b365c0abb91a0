"""The extractor on report-style sentences written for these tests (not taken from seeds)."""

from __future__ import annotations

import unicodedata

import pytest

from chiso_ingest.extraction import EXTRACTOR_VERSION, extract
from chiso_shared.facts import Fact

HEADER = "Báo cáo kết quả công tác thông tin và truyền thông tỉnh Nghệ An năm 2024.\n"


def facts(body: str, **hints: str) -> list[Fact]:
    return extract(
        HEADER + body, doc="test.txt", published=hints.get("published"), scope=hints.get("scope")
    )


def one(body: str, number: str, **hints: str) -> Fact:
    found = [f for f in facts(body, **hints) if f.text == number]
    assert len(found) == 1, [f.text for f in facts(body, **hints)]
    return found[0]


def texts(body: str) -> list[str]:
    return [f.text for f in facts(body)]


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


def test_level_count_with_scope_period_indicator() -> None:
    f = one("Tổng số thuê bao điện thoại trên toàn tỉnh đạt 3.120.450 thuê bao.", "3.120.450")
    assert (f.value, f.unit.value, f.role.value) == (3120450, "count", "level")
    assert (f.period, f.scope, f.status.value) == ("2024", "VN-40", "actual")
    assert f.indicator == "telecom.subscribers.total"
    assert f.item == "thuê bao"


def test_scale_words_and_money() -> None:
    f = one("Doanh thu dịch vụ viễn thông ước đạt 6.250 tỷ đồng.", "6.250")
    assert (f.value, f.unit.value, f.status.value) == (6.25e12, "VND", "estimate")
    assert f.indicator == "telecom.revenue"
    g = one("Tổng số tiền xử phạt là 72,5 triệu đồng.", "72,5")
    assert (g.value, g.unit.value) == (72_500_000, "VND")
    h = one("Có 3,415 tỷ đồng được chi trả qua ví điện tử.", "3,415")
    assert h.value == pytest.approx(3.415e9)
    k = one("Số thuê bao băng rộng đạt 85,3 triệu thuê bao.", "85,3")
    assert (k.value, k.unit.value) == (85_300_000, "count")


def test_english_separators_in_the_same_report() -> None:
    assert one("Tốc độ băng rộng cố định đạt 64.20 Mbps.", "64.20").value == pytest.approx(64.2)
    f = one("Tổng số sách phát hành đạt 312,000 bản.", "312,000")
    assert (f.value, f.unit.value) == (312000, "count")


def test_leading_zeros_are_decimal() -> None:
    f = one("Sở đã cấp phép cho 05 trang thông tin điện tử tổng hợp.", "05")
    assert (f.value, f.item) == (5, "trang thông tin điện tử tổng hợp")


def test_change_and_ratio_against_bases() -> None:
    body = (
        "Tổng số thuê bao Internet ước đạt 1.020.000 thuê bao, tăng 3,25% so với cùng kỳ, "
        "vượt 1,5% so với kế hoạch; doanh thu bưu chính bằng 104,2% so với cùng kỳ và "
        "đạt 110,4% kế hoạch năm."
    )
    found = {f.text: f for f in facts(body)}
    up, plan = found["3,25"], found["1,5"]
    assert (up.role.value, up.basis, up.value) == ("change", "previous_period", 3.25)
    assert (plan.role.value, plan.basis) == ("change", "plan")
    assert up.status.value == "estimate" and up.indicator == "telecom.internet.subscribers"
    assert (found["104,2"].role.value, found["104,2"].basis) == ("ratio", "previous_period")
    assert (found["110,4"].role.value, found["110,4"].basis) == ("ratio", "plan")


def test_decrease_is_negative_and_bare_change_is_previous_period() -> None:
    body = "Sản lượng bưu gửi đạt 250.400 (giảm 4,5%); số bưu cục đạt 310 (tăng 12%)."
    found = {f.text: f for f in facts(body)}
    assert (found["4,5"].value, found["4,5"].basis) == (-4.5, "previous_period")
    assert (found["12"].role.value, found["12"].basis) == ("change", "previous_period")


def test_lower_than_plan() -> None:
    f = one("Tỷ lệ hồ sơ trực tuyến đạt 45%, thấp hơn 5% so với kế hoạch.", "5")
    assert (f.value, f.role.value, f.basis) == (-5, "change", "plan")


def test_share_is_a_level_not_a_ratio() -> None:
    f = one("Doanh nghiệp số chiếm 12,5% tổng số doanh nghiệp.", "12,5")
    assert (f.role.value, f.unit.value) == ("level", "percent")


def test_density_and_speed_units() -> None:
    f = one("Mật độ thuê bao điện thoại đạt 92,4 máy/100 dân.", "92,4")
    assert (f.unit.value, f.indicator) == ("per_100_people", "telecom.phone_density")
    g = one("Đạt 45 thuê bao băng rộng di động (BRĐĐ)/100 dân.", "45")
    assert g.unit.value == "per_100_people"
    assert all(x.text != "100" for x in facts("Đạt 45 thuê bao/100 dân."))
    h = one("Bán kính phục vụ bình quân 3,05 km/điểm phục vụ.", "3,05")
    assert (h.unit.value, h.indicator) == ("km", "postal.service_radius")


def test_ranges() -> None:
    f = one("Đài truyền thanh phát sóng 5-6 giờ/ngày.", "5-6")
    assert (f.value, f.max, f.unit.value) == (5, 6, "hours_per_day")
    g = [x for x in facts("Tỷ lệ bao phủ từ 60 đến 70% số thôn.") if x.value == 60]
    assert len(g) == 1 and g[0].max == 70 and g[0].unit.value == "percent"


def test_a_minus_sign_is_a_decrease_but_a_spaced_dash_is_a_range() -> None:
    table = "Chỉ tiêu | 2024 | so với 2023\nThuê bao băng rộng cố định | 356.210 | -1,5%\n"
    found = {f.text: f for f in facts(table + "Thuê bao truyền hình\t41.200\t−0,9%\n")}
    assert (found["1,5"].value, found["1,5"].role.value) == (-1.5, "change")
    assert (found["0,9"].value, found["0,9"].basis) == (-0.9, "previous_period")
    assert (found["41.200"].value, found["41.200"].unit.value) == (41200, "count")
    g = one("Sản lượng tin nhắn đạt 400 triệu tin -2,0% so với năm trước.", "2,0")
    assert (g.value, g.role.value) == (-2, "change")
    h = one("Tỷ lệ hộ dùng cáp quang tăng 10 -15% tùy huyện.", "10 -15")
    assert (h.value, h.max) == (10, 15)
    assert texts("Dịch bệnh COVID-19 ảnh hưởng đến sản lượng.") == []


def test_a_scale_word_or_unit_does_not_reach_into_the_next_line() -> None:
    table = (
        "- Thuê bao di động | 700.000\n"
        "Tỷ lệ hộ gia đình có cáp quang đạt 80%.\n"
        "Doanh thu bưu chính đạt 1.150\n"
        "Đồng thời doanh nghiệp mở 12 bưu cục.\n"
    )
    found = {f.text: f for f in facts(table)}
    assert (found["700.000"].value, found["700.000"].unit.value) == (700_000, "count")
    assert (found["1.150"].value, found["1.150"].unit.value) == (1150, "count")
    wrapped = one("Tổng doanh thu viễn thông ước đạt 4.900\ntỷ đồng, tăng 3%.", "4.900")
    assert (wrapped.value, wrapped.unit.value) == (4.9e12, "VND")
    assert one("Tỷ trọng kinh tế số đạt 9,5 tỷ trọng GRDP.", "9,5").value == 9.5


def test_van_is_ten_thousand() -> None:
    f = one("Báo tỉnh phát hành 1,2 vạn tờ mỗi kỳ.", "1,2")
    assert (f.value, f.unit.value) == (12_000, "count")


def test_pairs_and_ranks() -> None:
    f = one("Có 431/431 xã có điểm phục vụ bưu chính.", "431/431")
    assert (f.value, f.of, f.unit.value) == (431, 431, "count")
    g = one("Chỉ số chuyển đổi số cấp tỉnh (DTI) của tỉnh xếp thứ 21/63 tỉnh, thành.", "21/63")
    assert (g.value, g.of, g.unit.value, g.indicator) == (21, 63, "rank", "dti.rank")


@pytest.mark.parametrize(
    "body",
    [
        "Thực hiện Quyết định số 812/QĐ-UBND ngày 15/3/2024 của UBND tỉnh.",
        "Triển khai Nghị quyết số 09-NQ/TU và Nghị định 13 của Chính phủ.",
        "Theo khoản 3 Điều 27 Luật Viễn thông năm 2023.",
        "Hội nghị diễn ra chiều 28/12, lúc 14:30.",
        "Mạng 4G và 5G phủ sóng; hệ thống chuyển sang IPv6.",
        "Đại hội lần thứ 3 đã thông qua mô hình “2 không” trong giai đoạn 2021-2025.",
        "Người từ 15 tuổi trở lên được hướng dẫn sử dụng dịch vụ 24/7.",
        "Sau 3 năm triển khai, cả 2 nền tảng đều hoạt động ổn định.",
        "Kế hoạch số 45/KH-UBND hướng dẫn mã TQ-05 cho đơn vị.",
        "Lớp tập huấn dành cho đoàn viên từ 18 đến 35 tuổi.",
        "Bảng 1. Kết quả phát triển hạ tầng",
        "Tổ chức chương trình “Ngày hội 1 triệu người dùng nền tảng số”.",
    ],
)
def test_exclusions(body: str) -> None:
    assert texts(body) == []


def test_section_numbers_are_not_facts() -> None:
    assert texts("2.3. Hạ tầng số\n1. Bưu chính\nCó 14 doanh nghiệp bưu chính.") == ["14"]


def test_technology_names_drop_but_their_counts_stay() -> None:
    assert texts("Lắp mới 310 thiết bị (trong đó 40 2G, 90 3G, 180 4G).") == [
        "310",
        "40",
        "90",
        "180",
    ]


def test_status_cues() -> None:
    assert one("Hiện có khoảng 4.100 doanh nghiệp số.", "4.100").status.value == "estimate"
    assert one("Đã hỗ trợ gần 2.000 hộ kinh doanh.", "2.000").status.value == "estimate"
    assert one("Đã hỗ trợ hơn 2.000 hộ kinh doanh.", "2.000").status.value == "actual"
    f = one("Tỷ lệ hộ gia đình có cáp quang mới đạt 71,2% (kế hoạch là 75%).", "75")
    assert (f.status.value, f.value, f.unit.value) == ("target", 75, "percent")
    g = one("Mục tiêu đến năm 2025 đạt 80 thuê bao băng rộng di động/100 dân.", "80")
    assert (g.status.value, g.period) == ("target", "2025")


def test_comparison_with_a_quota_value_is_level_plus_target() -> None:
    body = "Xã A có tỷ lệ hồ sơ trực tuyến chỉ đạt 38,4% so với chỉ tiêu được giao 55%."
    found = {f.text: f for f in facts(body)}
    assert (found["38,4"].role.value, found["38,4"].status.value) == ("level", "actual")
    assert found["55"].status.value == "target"


def test_explicit_periods() -> None:
    cases = {
        "Doanh thu tháng 10/2024 ước đạt 520 tỷ đồng.": "2024-10",
        "Trong 6 tháng đầu năm, doanh thu đạt 3.000 tỷ đồng.": "2024-S1",
        "Quý III, doanh thu đạt 1.600 tỷ đồng.": "2024-Q3",
        "Lũy kế đến hết tháng 9, doanh thu đạt 4.700 tỷ đồng.": "2024-01/2024-09",
        "Tính đến ngày 15/11/2024, toàn tỉnh có 1.870 thủ tục hành chính.": "2024-11-15",
        "Tổng số lượt văn bản là 4.500.000 lượt (từ tháng 1/2023 đến tháng 10/2024).": (
            "2023-01/2024-10"
        ),
        "Năm học 2024-2025, 98% trường học thu học phí không dùng tiền mặt.": "2024/2025",
        "Doanh thu năm 2023 đạt 2.100 tỷ đồng.": "2023",
        "Nộp ngân sách nhà nước 9 tháng của các doanh nghiệp đạt 60 tỷ đồng.": "2024-01/2024-09",
        "Doanh thu bưu chính 9 tháng qua đạt 12 tỷ đồng.": "2024-01/2024-09",
    }
    for body, period in cases.items():
        found = [f for f in facts(body) if f.unit.value in ("VND", "count", "percent")]
        assert [f.period for f in found] == [period], body


def test_comparison_year_is_not_the_period() -> None:
    f = one("Số điểm phục vụ đạt 640 điểm, tăng 4% so với cùng kỳ năm 2023.", "4")
    assert (f.period, f.role.value) == ("2024", "change")


def test_report_period_from_title_and_published_hint() -> None:
    monthly = "Báo cáo tình hình hoạt động tháng 8 năm 2024\nCả nước có 2.350 doanh nghiệp."
    assert [f.period for f in extract(monthly, doc="m.txt")] == ["2024-08"]
    undated = "Toàn tỉnh có 310 trạm BTS."
    assert [f.period for f in extract(undated, doc="u.txt", published="2022-05-01")] == ["2022"]


def test_scope_hint_and_national_and_sub() -> None:
    undated = "Năm 2023, toàn tỉnh có 310 trạm BTS."
    assert [f.scope for f in extract(undated, doc="u.txt", scope="VN-26")] == ["VN-26"]
    national = "Năm 2023, cả nước có 2.350 doanh nghiệp viễn thông."
    assert [f.scope for f in extract(national, doc="n.txt")] == ["VN"]
    f = one("Mô hình thí điểm tại xã Hưng Lộc đã số hóa 100% hộ gia đình.", "100")
    assert f.scope == "sub"


def test_province_without_diacritics() -> None:
    text = "Bao cao nam 2023 cua tinh Thanh Hoa. Toàn tỉnh có 310 trạm BTS."
    assert [f.scope for f in extract(text, doc="a.txt")] == ["VN-38"]


NATIONAL = (
    "BÁO CÁO\nKết quả thực hiện nhiệm vụ tháng 9 và 9 tháng năm 2024\n"
    "Doanh thu bưu chính tháng 9 ước đạt 4.100 tỷ đồng, tăng 8,5% so với cùng kỳ. "
    "Lũy kế 9 tháng, doanh thu bưu chính ước đạt 38.200 tỷ đồng. "
    "Cả nước có 21,8 triệu thuê bao băng rộng cố định (+6%). "
    "Doanh thu công nghiệp ICT gấp 1,3 lần so với cùng kỳ.\n"
    "II. PHƯƠNG HƯỚNG NHIỆM VỤ THÁNG 10/2024\n"
    "Phấn đấu tổ chức 03 hội nghị chuyên đề.\n"
)


def test_national_monthly_report() -> None:
    found = {f.text: f for f in extract(NATIONAL, doc="n.txt")}
    assert found["4.100"].period == "2024-09" and found["4.100"].scope == "VN"
    assert found["4.100"].indicator == "postal.revenue"
    assert found["38.200"].period == "2024-01/2024-09"
    assert (found["6"].role.value, found["6"].basis) == ("change", "previous_period")
    assert found["6"].indicator == "telecom.broadband_fixed.subscribers"
    times = found["1,3"]
    assert (times.unit.value, times.role.value, times.basis) == (
        "other",
        "ratio",
        "previous_period",
    )
    plan = found["03"]
    assert (plan.status.value, plan.period) == ("target", "2024-10")


def test_phone_numbers_and_round_the_clock_are_not_facts() -> None:
    body = "Đường dây nóng 1800.5678 và số điện thoại 0238.3844.123 trực 24/24 giờ."
    assert texts(body) == []


def test_dates_and_laws_name_no_period() -> None:
    body = "Ngày 12 tháng 4 năm 2023, theo Luật Viễn thông năm 2009, Sở cấp phép 6 doanh nghiệp."
    assert [f.period for f in facts(body)] == ["2024"]


def test_label_after_the_value() -> None:
    body = "Thời lượng phát sóng của Đài Phát thanh tỉnh đạt 20 giờ/ngày đối với truyền hình."
    assert one(body, "20").indicator == "broadcast.tv_hours_per_day"


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


def test_bracketed_earlier_figure_keeps_its_own_period() -> None:
    found = {
        f.text: f for f in facts("Doanh thu đạt 2.700 tỷ đồng (năm 2023: 2.300 tỷ đồng), tăng 17%.")
    }
    assert (found["2.700"].period, found["2.300"].period) == ("2024", "2023")
    assert (found["17"].period, found["17"].role.value) == ("2024", "change")


def test_national_report_naming_provinces_stays_national() -> None:
    text = (
        "Báo cáo tình hình 6 tháng đầu năm 2024 của Bộ.\n"
        "Cả nước có 79 triệu thuê bao băng rộng di động; Hà Nội và Đà Nẵng dẫn đầu. "
        "Các Sở Thông tin và Truyền thông của 63 tỉnh, thành phố đã triển khai. "
        "Toàn quốc có 12 doanh nghiệp."
    )
    assert {f.scope for f in extract(text, doc="vn.txt")} == {"VN"}


def test_number_words_and_same_metric_siblings() -> None:
    body = "Sáu tháng đầu năm, doanh thu bưu chính đạt 310 tỷ đồng, trong năm 2023 là 290 tỷ đồng."
    found = {f.text: f for f in facts(body)}
    assert found["310"].period == "2024-S1"
    assert found["290"].indicator == found["310"].indicator == "postal.revenue"


def test_plan_sections_hold_targets_for_the_next_period() -> None:
    text = (
        "BÁO CÁO tổng kết năm 2023\nI. KẾT QUẢ THỰC HIỆN NHIỆM VỤ NĂM 2023\n"
        "Toàn tỉnh có 500 trạm BTS.\nII. PHƯƠNG HƯỚNG NHIỆM VỤ NĂM 2024\n"
        "Phát triển thêm 60 trạm BTS.\n"
    )
    found = {f.text: f for f in extract(text, doc="p.txt")}
    assert (found["500"].status.value, found["500"].period) == ("actual", "2023")
    assert (found["60"].status.value, found["60"].period) == ("target", "2024")


def test_basis_between_verb_and_number_and_multiples() -> None:
    found = {f.text: f for f in facts("Tỷ lệ hộ có cáp quang đạt 85%, vượt kế hoạch 5%.")}
    assert (found["5"].role.value, found["5"].basis) == ("change", "plan")
    times = one("Doanh thu năm nay gấp 2 lần năm 2021.", "2")
    assert (times.role.value, times.basis, times.period) == ("ratio", "previous_period", "2024")


def test_ministry_report_is_national_with_named_provinces() -> None:
    text = (
        "BỘ THÔNG TIN VÀ TRUYỀN THÔNG\nHà Nội, ngày 06 tháng 12 năm 2024\n"
        "BÁO CÁO tháng 11 năm 2024\nDoanh thu viễn thông đạt 29.000 tỷ đồng. "
        "Hải Phòng có 2,1 triệu thuê bao di động."
    )
    found = {f.text: f for f in extract(text, doc="m.txt")}
    assert (found["29.000"].scope, found["29.000"].period) == ("VN", "2024-11")
    assert found["2,1"].scope == "VN-31"


def test_province_names_follow_the_code_list_of_the_period() -> None:
    # "Bắc Ninh" was VN-27 until the 2025 merger; the merged province kept Bắc Giang's VN-24
    before = "Báo cáo năm 2023 của tỉnh Bắc Ninh.\nToàn tỉnh có 1.650.000 thuê bao di động."
    after = "Báo cáo năm 2026 của tỉnh Bắc Ninh.\nToàn tỉnh có 3.450.000 thuê bao di động."
    assert [f.scope for f in extract(before, doc="2023.txt")] == ["VN-27"]
    assert [f.scope for f in extract(after, doc="2026.txt")] == ["VN-24"]


@pytest.mark.parametrize("levels", ["mức độ 3, 4", "mức độ 3 và 4", "mức độ 2, 3, 4"])
def test_every_level_in_a_list_of_service_levels_is_excluded(levels: str) -> None:
    body = f"Năm 2024 tỉnh cung cấp 1.215 dịch vụ công trực tuyến {levels}."
    assert texts(body) == ["1.215"]


def test_a_later_figure_listed_after_a_target_is_a_target() -> None:
    body = "Năm 2025 phấn đấu 80% hồ sơ được số hóa, từ 60 đến 70% người dân có danh tính số."
    assert [(f.text, f.status.value) for f in facts(body)] == [
        ("80", "target"),
        ("60 đến 70", "target"),
    ]
    # the report's own period stays actual when nothing marks it as planned
    current = "Năm 2024 phấn đấu 80% hồ sơ được số hóa, đã có 65% người dân có danh tính số."
    assert [f.status.value for f in facts(current)] == ["target", "actual"]


def test_a_share_named_after_its_number_does_not_borrow_the_sentences_earlier_metric() -> None:
    body = (
        "Tỷ lệ hộ gia đình có kết nối Internet cáp quang đạt 85,2%; "
        "100% xã có điểm phục vụ bưu chính có người phục vụ."
    )
    assert one(body, "85,2").indicator == "telecom.fiber.household_share"
    assert one(body, "100").indicator is None


@pytest.mark.parametrize(
    ("body", "number", "code"),
    [
        (
            "Phấn đấu đạt 90% người trưởng thành có điện thoại thông minh.",
            "90",
            "telecom.smartphone.adult_share",
        ),
        ("Tỷ lệ hộ có cáp quang đạt 80%.", "80", "telecom.fiber.household_share"),
        ("LGSP có 96 dịch vụ kết nối nội tỉnh.", "96", "egov.lgsp.services_internal"),
        (
            "Có 1,6 triệu văn bản điện tử được trao đổi qua hệ thống.",
            "1,6",
            "egov.documents.exchanged",
        ),
    ],
)
def test_common_paraphrases_of_catalogue_indicators(body: str, number: str, code: str) -> None:
    assert one(body, number).indicator == code


@pytest.mark.parametrize(
    ("body", "number"),
    [
        ("Hiện còn 42 thôn chưa có sóng thông tin di động.", "42"),
        ("Toàn tỉnh có 36.520 hồ sơ được tiếp nhận qua dịch vụ công trực tuyến.", "36.520"),
        ("Có 12 xã chưa có điểm phục vụ bưu chính.", "12"),
    ],
)
def test_a_count_of_places_or_case_files_names_no_metric_near_it(body: str, number: str) -> None:
    assert one(body, number).indicator is None


def test_a_metric_that_counts_case_files_keeps_them() -> None:
    body = "Thẩm định 25 hồ sơ đề xuất cấp độ hệ thống thông tin."
    assert one(body, "25").indicator == "security.systems_level_approved"


def test_fixed_broadband_is_not_fixed_telephony() -> None:
    body = "Chỉ tiêu | 2024\nBăng rộng cố định | 356.210\nThuê bao điện thoại cố định | 21.000\n"
    found = {f.text: f.indicator for f in facts(body)}
    assert found == {
        "356.210": "telecom.broadband_fixed.subscribers",
        "21.000": "telecom.subscribers.fixed",
    }


@pytest.mark.parametrize(
    ("body", "number"),
    [
        (
            "Kế hoạch năm 2024 đề ra phát triển băng rộng, đến nay đã đạt 118.000 thuê bao.",
            "118.000",
        ),
        ("Phấn đấu nâng tỷ lệ hồ sơ trực tuyến, hiện nay đã đạt 62%.", "62"),
    ],
)
def test_a_result_reported_after_a_target_is_actual(body: str, number: str) -> None:
    assert one(body, number).status.value == "actual"


def test_a_figure_between_two_straight_quoted_names_stays() -> None:
    body = 'Cuộc thi "Tìm hiểu" thu hút 1.200 người tham gia hội thi "Chuyển đổi số".'
    assert texts(body) == ["1.200"]


def test_scaled_values_carry_no_binary_noise() -> None:
    f = one("Doanh thu viễn thông đạt 1.098,6 tỷ đồng.", "1.098,6")
    assert f.value == 1_098_600_000_000
    assert one("Doanh thu bưu chính đạt 0,7 tỷ đồng.", "0,7").value == 700_000_000


def test_a_ranking_article_about_a_province_stays_provincial() -> None:
    text = (
        "Đồng Tháp giữ vững vị trí trong bảng xếp hạng chuyển đổi số\n"
        "Năm 2023, chỉ số DTI của tỉnh Đồng Tháp xếp thứ 5/63 tỉnh, thành phố. "
        "Chính quyền số của Đồng Tháp xếp thứ 8/63 tỉnh, thành phố, cao hơn mức bình quân "
        "cả nước. Kinh tế số xếp thứ 21/63 tỉnh, thành phố. "
        "Tỷ lệ hồ sơ trực tuyến của Đồng Tháp đạt 78,6%, so với cả nước là 52%.\n"
    )
    scopes = {f.text: f.scope for f in extract(text, doc="tin-bai.txt")}
    assert {scopes[t] for t in ("5/63", "8/63", "21/63", "78,6")} == {"VN-87"}


def test_a_clause_about_the_country_is_national() -> None:
    body = (
        "Toàn tỉnh Nghệ An đẩy mạnh chuyển đổi số; Sở Thông tin và Truyền thông tỉnh Nghệ An "
        "theo dõi kết quả. "
        "Tỷ lệ thanh toán không dùng tiền mặt của tỉnh đạt 9,12%, trong khi cả nước đạt "
        "khoảng 12,33%. Cả nước hiện có 54/63 địa phương triển khai nền tảng này."
    )
    scopes = {f.text: f.scope for f in facts(body)}
    assert scopes == {"9,12": "VN-40", "12,33": "VN", "54/63": "VN"}


def test_a_compared_period_is_not_the_next_figures_period() -> None:
    text = (
        "BÁO CÁO KẾT QUẢ QUÝ I/2025 tỉnh Hà Tĩnh\n"
        "Tỷ lệ hồ sơ trực tuyến đạt 72%, tăng 11,2 điểm phần trăm so với quý IV/2024; "
        "thị xã Kỳ Anh đạt cao nhất với 91,3%.\n"
    )
    found = {f.text: f for f in extract(text, doc="quy1.txt")}
    assert found["91,3"].period == found["72"].period == "2025-Q1"


@pytest.mark.parametrize("numbering", ["PHẦN II.", "II."])
def test_a_plan_section_covers_its_numbered_subsections(numbering: str) -> None:
    text = (
        "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH GIA LAI\nBÁO CÁO TỔNG KẾT NĂM 2024\n"
        f"{numbering.replace('II', 'I')} KẾT QUẢ THỰC HIỆN NĂM 2024\n"
        "1. Bưu chính, viễn thông\nDoanh thu bưu chính, viễn thông đạt 2.150 tỷ đồng.\n"
        f"{numbering} PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025\n"
        "1. Chỉ tiêu chủ yếu\n- Doanh thu bưu chính, viễn thông đạt 2.300 tỷ đồng.\n"
        "2. Nhiệm vụ trọng tâm\n- Tỷ lệ hồ sơ trực tuyến toàn trình đạt 70%.\n"
    )
    found = {f.text: (f.period, f.status.value) for f in extract(text, doc="gia-lai.txt")}
    assert found == {
        "2.150": ("2024", "actual"),
        "2.300": ("2025", "target"),
        "70": ("2025", "target"),
    }


@pytest.mark.parametrize(
    ("title", "period"),
    [
        ("BÁO CÁO THÁNG 10/2024", "2024-01/2024-10"),
        ("BÁO CÁO KẾT QUẢ QUÝ III/2024", "2024-01/2024-09"),
        ("BÁO CÁO 6 THÁNG ĐẦU NĂM 2024", "2024-S1"),
        ("BÁO CÁO TỔNG KẾT NĂM 2024", "2024"),
    ],
)
def test_since_the_start_of_the_year_runs_to_the_reports_end(title: str, period: str) -> None:
    text = (
        f"SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH BÌNH DƯƠNG\n{title}\n"
        "Lũy kế từ đầu năm, doanh thu viễn thông ước đạt 7.936 tỷ đồng. "
        "Từ đầu năm đến tháng 9, doanh thu bưu chính đạt 710 tỷ đồng.\n"
    )
    found = {f.text: f.period for f in extract(text, doc="bao-cao.txt")}
    assert found == {"7.936": period, "710": "2024-01/2024-09"}


def test_a_multiple_of_the_national_average_has_another_basis() -> None:
    f = one("Tỷ lệ này cao gấp 1,8 lần mức trung bình cả nước.", "1,8")
    assert (f.role.value, f.basis) == ("ratio", "other")
    g = one("Doanh thu năm nay gấp 2,5 lần năm 2020.", "2,5")
    assert (g.role.value, g.basis) == ("ratio", "previous_period")
