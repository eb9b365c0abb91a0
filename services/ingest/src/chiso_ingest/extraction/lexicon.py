"""The extractor's lexicons: data files under `data/`, loaded and compiled once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from chiso_shared.facts import Unit

Pattern = re.Pattern[str]


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _re(pattern: str, flags: int = 0) -> Pattern:
    return re.compile(pattern, flags)


def _tail(pattern: str) -> Pattern:
    """A whole-word pattern that must end where the searched text ends."""
    return re.compile(
        f"(?<!\\w)(?:{pattern})$" if not pattern.endswith("$") else f"(?<!\\w){pattern}"
    )


def _words(pattern: str) -> Pattern:
    """A cue pattern that starts at a word boundary ("ước" is not the end of "nước")."""
    return re.compile(f"(?<!\\w)(?:{pattern})")


@dataclass(frozen=True, slots=True)
class UnitRule:
    pattern: Pattern
    unit: Unit
    factor: float


@dataclass(frozen=True, slots=True)
class BasisRule:
    pattern: Pattern
    basis: str


@dataclass(frozen=True, slots=True)
class PeriodRule:
    kind: str
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Lexicon:
    scale: Pattern
    scale_factors: tuple[tuple[Pattern, float], ...]
    units: tuple[UnitRule, ...]
    change_up: Pattern
    change_down: Pattern
    level_after_change: Pattern
    multiple: Pattern
    multiple_unit: Pattern
    hedge: Pattern
    basis: tuple[BasisRule, ...]
    target_value_follows: Pattern
    basis_before: tuple[BasisRule, ...]
    basis_after_multiple: Pattern
    basis_after_multiple_other: Pattern
    estimate: Pattern
    target: Pattern
    achieved: Pattern
    estimate_adjacent: Pattern
    component: Pattern
    future_heading: Pattern
    exclude_left: Pattern
    candidate: Pattern
    exclude_right: Pattern
    exclude_spans: Pattern
    section: Pattern
    definition_left: Pattern
    level_name: Pattern
    definition_right: Pattern
    rank_cue: Pattern
    rank_ordinal: Pattern
    rank_place_right: Pattern
    item_stop: Pattern
    rate_item: Pattern
    item_max_words: int
    label_trim_tail: Pattern
    label_trim_head: Pattern
    label_max_chars: int
    light_words: str
    label_after: Pattern
    counted_other: Pattern
    window_stop: Pattern
    scope_sub: Pattern
    scope_sub_right: Pattern
    scope_national: Pattern
    scope_national_subject: Pattern
    scope_province_markers: Pattern
    national_issuer: Pattern
    national_issuer_window: int
    period_rules: tuple[PeriodRule, ...]
    basis_prefix: Pattern
    not_period_prefix: Pattern
    flow_words: Pattern
    period_words: Pattern
    number_words: dict[str, int]
    title_window: int
    report_words: Pattern
    future_before: Pattern
    future_after: Pattern
    strong_before: Pattern
    dated: Pattern
    table_unit_header: Pattern
    table_index_header: Pattern
    table_percent_header: Pattern
    table_change_header: Pattern
    table_ratio_header: Pattern
    table_plan_header: Pattern
    table_target_header: Pattern
    table_estimate_header: Pattern
    table_actual_header: Pattern
    table_unit_caption: Pattern


def _word_start(pattern: str) -> str:
    """Cue words start a word; entries that begin with punctuation keep their own rule."""
    return pattern if pattern.startswith(("[", "/", "(?<")) else rf"(?<!\w){pattern}"


def _alternation(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


_NUM = r"\d+(?:[.,]\d+)*"


def _candidate(glued_units: str) -> Pattern:
    """A number, pair (`558/559`) or range (`3-4`, `3 - 4`), not glued to a word or code.

    A hyphen right before a number is a minus sign ("| -1,5%", "thuê bao -2,0%") unless a
    word, a bracket or a number and one space come before it: "10 -15%" is a range.
    """
    return re.compile(
        rf"(?<![\w.,/–])(?<![\w.,/%)\]-]-)(?<!\d[ \u00a0]-)(?<!\d:)(?P<num>{_NUM})"
        rf"(?:(?P<pair>\s*/\s*(?P<den>{_NUM}))"
        rf"|(?P<rng>(?:[ \u00a0]+)?[-–](?:[ \u00a0]+)?(?P<hi>{_NUM})))?"
        rf"(?!(?!(?:{glued_units})(?!\w))[\w/])(?!-[^\W\d_])(?![.,]\d)(?!\s*:\s*\d)",
        re.IGNORECASE,
    )


@cache
def lexicon() -> Lexicon:
    lex = _load("lexicon.toml")
    per = _load("periods.toml")
    scale_words = lex["scale"]["words"]
    role = lex["role"]
    status = lex["status"]
    exclude = lex["exclude"]
    item = lex["item"]
    label = lex["label"]
    scope = lex["scope"]
    doc = per["document"]
    table = lex["table"]
    return Lexicon(
        scale=_re(r"^\s*(?:" + _alternation([w["pattern"] for w in scale_words]) + r")(?!\w)"),
        scale_factors=tuple(
            (_re(f"^(?:{w['pattern']})$"), float(w["factor"])) for w in scale_words
        ),
        units=tuple(
            UnitRule(_re(u["pattern"]), Unit(u["unit"]), float(u.get("factor", 1.0)))
            for u in lex["units"]["ordered"]
        ),
        change_up=_tail(role["change_up"]),
        change_down=_tail(role["change_down"]),
        level_after_change=_tail(role["level_after_change"]),
        multiple=_tail(role["multiple"]),
        multiple_unit=_re(role["multiple_unit"]),
        hedge=_re(role["hedge"]),
        basis=tuple(BasisRule(_re(b["pattern"]), b["basis"]) for b in lex["basis"]["ordered"]),
        target_value_follows=_re(lex["basis"]["target_value_follows"]),
        basis_before=tuple(
            BasisRule(_tail(b["pattern"]), b["basis"]) for b in lex["basis"]["before"]
        ),
        basis_after_multiple=_re(lex["basis"]["after_multiple"]),
        basis_after_multiple_other=_re(lex["basis"]["after_multiple_other"]),
        estimate=_words(status["estimate"]),
        target=_words(status["target"]),
        achieved=_words(status["achieved"]),
        estimate_adjacent=_words(status["estimate_adjacent"]),
        component=_words(status["component"]),
        future_heading=_re(status["future_heading"]),
        exclude_left=_re(_alternation([_word_start(p) for p in exclude["left"]])),
        candidate=_candidate(exclude["glued_units"]),
        exclude_right=_re(_alternation(exclude["right"])),
        exclude_spans=_re(_alternation(exclude["spans"])),
        section=_re(exclude["section"]),
        definition_left=_re(exclude["definition_left"]),
        level_name=_re(exclude["level_name"]),
        definition_right=_re(exclude["definition_right"]),
        rank_cue=_re(lex["rank"]["cue"]),
        rank_ordinal=_re(lex["rank"]["ordinal"]),
        rank_place_right=_re(lex["rank"]["place_right"]),
        item_stop=_re(item["stop"]),
        rate_item=_re(item["rate"]),
        item_max_words=int(item["max_words"]),
        label_trim_tail=_re(label["trim_tail"]),
        label_trim_head=_re(label["trim_head"]),
        label_max_chars=int(label["max_chars"]),
        light_words=" ".join(lex["indicator"]["light_words"]),
        label_after=_re(lex["indicator"]["label_after"]),
        counted_other=_re(lex["indicator"]["counted_other"]),
        window_stop=_re(lex["indicator"]["window_stop"]),
        scope_sub=_re(scope["sub"]),
        scope_sub_right=_re(scope["sub_right"]),
        scope_national=_re(scope["national"]),
        scope_national_subject=_re(scope["national_subject"]),
        scope_province_markers=_re(scope["province_markers"]),
        national_issuer=_re(scope["national_issuer"]),
        national_issuer_window=int(scope["national_issuer_window"]),
        period_rules=tuple(PeriodRule(r["kind"], _re(r["pattern"])) for r in per["rules"]),
        basis_prefix=_re(per["basis_prefix"]),
        not_period_prefix=_re(per["not_period_prefix"]),
        flow_words=_re(per["flow_words"]),
        period_words=_re(per["period_words"]),
        number_words={k: int(v) for k, v in per["number_words"].items()},
        title_window=int(doc["title_window"]),
        report_words=_re(doc["report_words"]),
        future_before=_re(doc["future_before"]),
        future_after=_re(doc["future_after"]),
        strong_before=_re(doc["strong_before"]),
        dated=_re(doc["dated"]),
        table_unit_header=_re(table["unit_header"]),
        table_index_header=_re(table["index_header"]),
        table_percent_header=_re(table["percent_header"]),
        table_change_header=_re(table["change_header"]),
        table_ratio_header=_re(table["ratio_header"]),
        table_plan_header=_re(table["plan_header"]),
        table_target_header=_re(table["target_header"]),
        table_estimate_header=_re(table["estimate_header"]),
        table_actual_header=_re(table["actual_header"]),
        table_unit_caption=_re(table["unit_caption"]),
    )
