"""Where sentences start: after a stop before a capital, or a line break that ends a line."""

from __future__ import annotations

from chiso_ingest.extraction.document import blanked, sentence_starts


def _sentences(text: str) -> list[str]:
    starts = [*sentence_starts(text), len(text)]
    return [text[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def test_a_stop_before_a_capital_ends_a_sentence() -> None:
    assert _sentences("Doanh thu tăng. Số thuê bao giảm!  Tốt") == [
        "Doanh thu tăng. ",
        "Số thuê bao giảm!  ",
        "Tốt",
    ]


def test_stops_glued_to_a_capital_or_run_together_end_one_sentence() -> None:
    assert _sentences("Xong...Tiếp theo?!Hết") == ["Xong...", "Tiếp theo?!", "Hết"]


def test_a_decimal_point_and_a_stop_glued_to_lower_case_end_none() -> None:
    assert _sentences("Đạt 3.5 triệu, tức là...khoảng 4.ok") == [
        "Đạt 3.5 triệu, tức là...khoảng 4.ok"
    ]


def test_a_stop_before_a_space_ends_a_sentence_whatever_follows() -> None:
    assert _sentences("Khoảng 4. còn lại") == ["Khoảng 4. ", "còn lại"]


def test_line_breaks_end_a_sentence_unless_the_line_is_wrapped() -> None:
    assert _sentences("Mục một\n\n\nMục hai, gồm\ncác xã\n- Ý ba") == [
        "Mục một\n\n\n",
        "Mục hai, gồm\ncác xã\n",
        "- Ý ba",
    ]


def test_an_abbreviation_or_a_glued_initial_ends_no_sentence() -> None:
    words = frozenset({"tp"})
    assert _abbreviated_sentences("Tại TP. Hạ Long có chuẩn G.A.P và OCOP. Hết", words) == [
        "Tại TP. Hạ Long có chuẩn G.A.P và OCOP. ",
        "Hết",
    ]


def test_without_the_abbreviation_listed_its_stop_ends_a_sentence() -> None:
    assert _abbreviated_sentences("Tại TP. Hạ Long", frozenset()) == ["Tại TP. ", "Hạ Long"]


def _abbreviated_sentences(text: str, words: frozenset[str]) -> list[str]:
    starts = [*sentence_starts(text, words), len(text)]
    return [text[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def test_blanking_keeps_the_length_whatever_the_spans() -> None:
    """Page numbers are blanked out of the text the extractor reads; offsets into it must
    hold, also when one span lies inside another or two touch."""
    text = "tăng\n3\n5,2% so với cùng kỳ"
    assert blanked(text, [(4, 6)]) == "tăng  \n5,2% so với cùng kỳ"
    assert blanked("abcdefghij", [(1, 6), (2, 4), (6, 8)]) == "a       ij"
    assert len(blanked("abcdefghij", [(1, 6), (2, 4), (7, 8)])) == 10
    assert blanked("abc", []) == "abc"
