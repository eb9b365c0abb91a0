"""Every extraction case of cases/*.toml, one test each, named after the case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.extraction.case_files import CaseFileError, LoadedCase, load_cases, problems, report, run

CASES = load_cases()


@pytest.mark.parametrize("loaded", CASES, ids=[c.case.name for c in CASES])
def test_case(loaded: LoadedCase) -> None:
    facts = run(loaded)
    if found := problems(loaded, facts):
        pytest.fail(report(loaded, facts, found), pytrace=False)


GOOD = """
header = "Báo cáo năm 2024 của tỉnh Nghệ An.\\n"

[[case]]
name = "a-count"
why = "A count is a fact."
text = "Có 12 trạm."
expect = [{ text = "12", value = 12 }]
"""


def write(tmp_path: Path, *texts: str) -> Path:
    for i, text in enumerate(texts):
        (tmp_path / f"f{i}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_well_formed_file_loads(tmp_path: Path) -> None:
    [loaded] = load_cases(write(tmp_path, GOOD))
    assert loaded.document == "Báo cáo năm 2024 của tỉnh Nghệ An.\nCó 12 trạm."
    assert problems(loaded, run(loaded)) == []


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('why = "A', 'wy = "A', "why"),  # an unknown case key (and a missing one)
        ("value = 12", "valeu = 12", "valeu"),  # an unknown fact field
        ("value = 12 }", 'unit = "pieces" }', "unit"),  # a unit that does not exist
        ("value = 12 }", 'period = "2024-13" }', "period"),
        ('text = "12", ', 'text = "13", ', "'13', not in text"),
        ('expect = [{ text = "12", value = 12 }]', "", "expects nothing"),
        ('name = "a-count"', 'name = "A count"', "name"),
        ("[[case]]", "[[cases]]", "cases"),
        ('why = "A count is a fact."', 'why = """A count\nis a fact."""', "why"),
        ('Có 12 trạm."', "Có 12 trạm.", "f0.toml"),  # not TOML
    ],
)
def test_a_malformed_file_is_rejected(tmp_path: Path, old: str, new: str, reason: str) -> None:
    assert old in GOOD
    with pytest.raises(CaseFileError, match=reason) as error:
        load_cases(write(tmp_path, GOOD.replace(old, new)))
    assert "f0.toml" in str(error.value)


def test_a_case_name_used_twice_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="'a-count' also in f0.toml"):
        load_cases(write(tmp_path, GOOD, GOOD))


def test_a_wrong_expectation_or_a_found_absent_number_fails(tmp_path: Path) -> None:
    wrong = GOOD.replace("value = 12 }]", 'value = 13, unit = "percent" }]\nabsent = ["12"]')
    [loaded] = load_cases(write(tmp_path, wrong))
    facts = run(loaded)
    found = problems(loaded, facts)
    assert found == [
        "'12': value is 12.0, expected 13.0",
        "'12': unit is 'count', expected 'percent'",
        "'12': expected no fact, found one",
    ]
    shown = report(loaded, facts, found)
    assert "case 'a-count' (f0.toml)" in shown and "| Có 12 trạm." in shown


def test_nth_picks_one_of_two_facts_with_the_same_text(tmp_path: Path) -> None:
    twice = GOOD.replace("Có 12 trạm.", "Có 12 trạm và 12 xã.")
    [loaded] = load_cases(write(tmp_path, twice))
    assert problems(loaded, run(loaded)) == ["'12': 2 facts with this text, expected 1"]
    second = twice.replace('text = "12", value', 'text = "12", nth = 2, item = "xã", value')
    [loaded] = load_cases(write(tmp_path, second))
    assert problems(loaded, run(loaded)) == []
    third = second.replace("nth = 2", "nth = 3")
    [loaded] = load_cases(write(tmp_path, third))
    assert problems(loaded, run(loaded)) == ["'12': no fact #3 with this text (2 found)"]
