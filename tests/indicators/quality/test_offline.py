"""The offline converter: extracted facts become the versions the store would hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chiso_indicators.observations.importer import fingerprint as importer_fingerprint
from chiso_indicators.quality.offline import fingerprint, main, observations_from_facts
from chiso_shared.facts import FACT_EXAMPLE, Fact


def fact(**changes: Any) -> Fact:
    return Fact.model_validate({**FACT_EXAMPLE, "doubts": [], **changes})


def test_versions_documents_and_the_current_one() -> None:
    facts = [
        fact(doc="a.txt", value=2_980_000, status="estimate"),
        fact(doc="b.txt", value=2_980_000, status="estimate", start=5, end=14),
        fact(doc="c.txt", value=2_990_000, status="actual"),  # actual beats estimate
        fact(doc="a.txt", value=4.44, unit="percent", role="change", basis="previous_period"),
        fact(doc="a.txt", value=1, scope="sub"),  # no series
        fact(doc="a.txt", value=2, indicator=None),
        fact(doc="a.txt", value=3_000_000, status="target"),
    ]
    found = observations_from_facts(facts, {})
    assert [o.id for o in found] == [1, 2, 3, 4]
    by_value = {o.value: o for o in found}
    assert by_value[2_980_000].documents == ("a.txt", "b.txt")
    assert not by_value[2_980_000].is_current and by_value[2_990_000].is_current
    assert by_value[4.44].transformation == "change_previous" and by_value[4.44].is_current
    target = by_value[3_000_000]
    assert (target.measure, target.status, target.frequency) == ("target", "F", "A")


def test_newer_publication_then_value_decide_between_equals() -> None:
    facts = [fact(doc="old.txt", value=10), fact(doc="new.txt", value=9)]
    newer = observations_from_facts(facts, {"old.txt": "2023-06-01", "new.txt": "2024-01-05"})
    assert [o.value for o in newer if o.is_current] == [9]
    # without dates both documents end with the period: the higher value wins
    same = observations_from_facts(facts, {})
    assert [o.value for o in same if o.is_current] == [10]


def test_reviewed_fact_wins() -> None:
    review = {"action": "accept", "by": "ch_x", "at": "2026-01-01T00:00:00Z"}
    facts = [fact(doc="a.txt", value=10), fact(doc="a.txt", value=7, review=review)]
    assert [o.value for o in observations_from_facts(facts, {}) if o.is_current] == [7]


def test_fingerprint_is_the_importers() -> None:
    for item in (fact(), fact(value=4.44, of=63, max=5.5, status="target")):
        assert fingerprint(item) == importer_fingerprint(item)


def test_command_prints_findings_and_counts(tmp_path: Path, capsys: Any) -> None:
    facts = [
        fact(doc="2023.txt", value=2_980_000, period="2023"),
        fact(doc="2023.txt", value=4.44, unit="percent", role="change", basis="previous_period"),
        fact(doc="2022.txt", value=2_957_000, period="2022"),
    ]
    path = tmp_path / "facts.jsonl"
    path.write_text("\n".join(f.model_dump_json() for f in facts) + "\n", encoding="utf-8")
    hints = tmp_path / "hints.tsv"
    hints.write_text("file\tpublished\ndocs/2023.txt\t2023-12-20\n", encoding="utf-8")
    assert main([str(path), "--hints", str(hints)]) == 0
    out = capsys.readouterr().out
    assert "[change_vs_levels] warning telecom.subscribers.total 38 2023" in out
    assert "stated" in out and "2022.txt value=2957000 period=2022" in out
    assert "change_vs_levels: 1" in out
