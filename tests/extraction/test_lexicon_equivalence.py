"""The generic lexicon compiles exactly what the field-per-cue loader compiled (issue 15).

`data/lexicon_before_issue15.json` holds, for each field of the old `Lexicon` dataclass,
its new name, the accessor that reads it and what the old loader made of it (each regex's
`.pattern` and `.flags`, rule lists with what they yield, numbers, words, mappings). It is
a migration check: once the lexicon's data change on purpose, delete this test and the file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chiso_ingest.extraction.lexicon import Lexicon, Rule, lexicon

_BEFORE: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "lexicon_before_issue15.json").read_text(encoding="utf-8")
)


def _regex(pattern: re.Pattern[str]) -> dict[str, Any]:
    return {"pattern": pattern.pattern, "flags": pattern.flags}


def _rule(field: str, rule: Rule) -> dict[str, Any]:
    """A rule as the old dataclasses held it (units defaulted their factor to 1.0)."""
    if field == "scale_factors":
        return {"pattern": _regex(rule.pattern), "factor": rule.number("factor")}
    if field == "units":
        return {
            "pattern": _regex(rule.pattern),
            "unit": rule.text("unit"),
            "factor": rule.number("factor", 1.0),
        }
    key = "kind" if field == "period_rules" else "basis"
    return {"pattern": _regex(rule.pattern), key: rule.text(key)}


def _now(lex: Lexicon, field: str, kind: str, name: str) -> Any:
    if kind == "pattern":
        return _regex(lex.pattern(name))
    if kind == "number":
        return lex.integer(name)
    if kind == "words":
        return " ".join(lex.words(name))  # the old field held them joined
    if kind == "mapping":
        return dict(lex.mapping(name))
    return [_rule(field, rule) for rule in lex.rules(name)]


def test_every_old_field_is_mapped() -> None:
    assert len(_BEFORE) == 70


@pytest.mark.parametrize("field", sorted(_BEFORE))
def test_the_new_name_compiles_what_the_old_field_held(field: str) -> None:
    entry = _BEFORE[field]
    now = _now(lexicon(), field, entry["kind"], entry["name"])
    assert now == entry["before"]
    assert json.dumps(now) == json.dumps(entry["before"])  # 8 stays 8, 1e9 stays a float
