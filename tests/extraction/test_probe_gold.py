"""The probe set (eval/probes) is well-formed: every gold fact says what the GUIDELINE allows.

The probes are short reports written for this project and annotated by hand
(eval/probes/README.md). This test checks only the annotation's form, never the extractor:
each gold line parses, its span is exactly its text in the NFC document, its value is a
number, its unit, role, basis, status, scope, period and indicator are in the GUIDELINE's
sets, and the hints table names every document once. It needs nothing outside the repo.
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from chiso_shared.catalogue import indicators, scope_codes
from chiso_shared.facts import Fact
from chiso_shared.periods import Period

PROBES = Path(__file__).resolve().parents[2] / "eval" / "probes"
FIELDS = (
    "doc", "start", "end", "text", "value", "unit", "item", "role", "basis",
    "of", "max", "period", "status", "indicator", "scope", "label",
)  # fmt: skip
UNITS = {"count", "VND", "USD", "percent", "per_100_people", "Mbps", "km", "hours_per_day"}
UNITS |= {"rank", "other"}
ROLES = {"level", "change", "ratio"}
BASES = {"previous_period", "plan", "other"}
STATUSES = {"actual", "estimate", "target"}
SCOPE = re.compile(r"^(?:VN|VN-\d{2}|sub)$")
PUBLISHED = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
GOLD_FILES = sorted((PROBES / "gold").glob("*.jsonl"))


def _doc_text(name: str) -> str:
    return unicodedata.normalize("NFC", (PROBES / "docs" / name).read_text(encoding="utf-8"))


def _facts(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_there_are_probes_with_gold_for_each_document() -> None:
    docs = sorted(path.stem for path in (PROBES / "docs").glob("*.txt"))
    assert len(docs) >= 8
    assert docs == [path.stem for path in GOLD_FILES]


def test_hints_name_every_document_once_with_a_publication_date() -> None:
    with (PROBES / "hints.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    files = [row["file"] for row in rows]
    assert sorted(files) == sorted(f"docs/{path.stem}.txt" for path in GOLD_FILES)
    for row in rows:
        assert PUBLISHED.match(row["published"]), row
        assert not row.get("scope") or SCOPE.match(row["scope"]), row


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda path: path.stem)
def test_document_is_a_short_report(path: Path) -> None:
    # p01-p30 run 800-2500 characters; the fifth batch (p41-) is longer on purpose
    # (2500-4500, real-report noise), still far below a full report.
    assert 800 <= len(_doc_text(f"{path.stem}.txt")) <= 4500


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda path: path.stem)
def test_gold_spans_match_the_text_in_order_without_overlap(path: Path) -> None:
    facts = _facts(path)
    assert facts
    text = _doc_text(f"{path.stem}.txt")
    previous_end = 0
    for fact in facts:
        assert tuple(fact) == FIELDS, fact
        assert fact["doc"] == f"{path.stem}.txt"
        assert fact["start"] >= previous_end, f"overlap or disorder at {fact['start']}"
        assert text[fact["start"] : fact["end"]] == fact["text"], fact
        previous_end = fact["end"]


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda path: path.stem)
def test_gold_fields_are_in_the_guideline_sets(path: Path) -> None:
    codes = {indicator.code for indicator in indicators()}
    for fact in _facts(path):
        where = f"{path.name}:{fact['start']} {fact['text']!r}"
        assert _is_number(fact["value"]), where
        assert all(fact[key] is None or _is_number(fact[key]) for key in ("of", "max")), where
        assert fact["max"] is None or fact["max"] > fact["value"], where
        assert fact["unit"] in UNITS, where
        assert fact["role"] in ROLES, where
        assert (fact["basis"] is None) == (fact["role"] == "level"), where
        assert fact["basis"] is None or fact["basis"] in BASES, where
        assert fact["status"] in STATUSES, where
        assert SCOPE.match(fact["scope"]), where
        assert fact["scope"] in {"VN", "sub"} or fact["scope"] in scope_codes(), where
        assert fact["indicator"] is None or fact["indicator"] in codes, where
        Period.parse(fact["period"])
        Fact.model_validate(fact)
