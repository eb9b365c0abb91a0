"""The data that orders the stages' decisions names only what the stages know.

`role.order`, `status.fallbacks` and the `near` and `unless_after` of `status.cues` are
names the code looks up; a typo in the data must fail here, not pass silently as a step
that never runs.
"""

from __future__ import annotations

from chiso_ingest.extraction.lexicon import lexicon
from chiso_ingest.extraction.stages import roles, status
from chiso_shared.facts import Basis, Status


def test_role_order_names_known_steps_once_each() -> None:
    order = lexicon().words("role.order")
    assert sorted(order) == sorted(roles._ROLE_STEPS)


def test_status_fallbacks_name_known_fallbacks_once_each() -> None:
    fallbacks = lexicon().words("status.fallbacks")
    assert sorted(fallbacks) == sorted(status._FALLBACKS)


def test_status_cues_look_in_known_windows_and_yield_statuses() -> None:
    lex = lexicon()
    cues = lex.rules("status.cues")
    assert cues
    for cue in cues:
        near = cue.text("near")
        assert near == "number" or lex.integer(f"windows.{near}") > 0, cue.name
        Status(cue.text("status"))
        if "unless_after" in cue.yields:
            lex.pattern(cue.text("unless_after"))


def test_change_cues_yield_a_sign_and_a_basis() -> None:
    for rule in lexicon().rules("role.changes"):
        assert rule.number("sign") in (-1.0, 1.0), rule.name
        Basis(rule.text("basis"))


def test_column_status_rules_yield_statuses() -> None:
    for rule in lexicon().rules("table.column_status"):
        Status(rule.text("status"))


def test_the_spans_lookahead_admits_every_span_form() -> None:
    """`exclude.spans` opens with a lookahead listing the forms' first characters (for
    speed): one example per form must still be found, so a form added without its first
    character fails here."""
    spans = lexicon().pattern("exclude.spans")
    examples = [
        "24/7",
        "1900 1234",
        "0234.567.890",
        "10:30",
        "gmt+7",
        '"top 10"',
        "“ngày hội 1 triệu người dùng”",
        "mô hình 3 không",
        "2.0 ",
        "ipv6",
    ]
    for example in examples:
        assert spans.search(example) is not None, example
