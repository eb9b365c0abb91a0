"""The data-quality engine on numbers of our own: each rule flags what it must and keeps
quiet on rounding, missing data, the two readings of "previous period" and revisions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chiso_indicators.quality import Finding, Obs, check, load_book, related_indicators
from chiso_indicators.quality.rules import KINDS, RuleBookError, book_from
from chiso_shared.catalogue import indicators

BOOK = load_book()
_ids = itertools.count(1)

TOTAL = "telecom.subscribers.total"
FIXED = "telecom.subscribers.fixed"
MOBILE = "telecom.subscribers.mobile"
DENSITY = "telecom.phone_density"


def obs(
    indicator: str,
    period: str,
    value: float,
    *,
    transformation: str = "level",
    unit: str = "count",
    status: str = "A",
    measure: str = "actual",
    area: str = "VN-38",
    current: bool = True,
    docs: tuple[str, ...] = ("doc-a",),
) -> Obs:
    frequency = {4: "A", 7: "M"}.get(len(period), "Q" if "-Q" in period else "S")
    if "/" in period:
        frequency = "X"
    return Obs(
        id=next(_ids),
        indicator=indicator,
        area=area,
        frequency=frequency,
        measure=measure,
        transformation=transformation,
        unit=unit,
        period=period,
        value=value,
        status=status,
        is_current=current,
        documents=docs,
    )


def rules(findings: list[Finding], rule: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule == rule]


def change(indicator: str, period: str, value: float, **options: Any) -> Obs:
    return obs(
        indicator, period, value, transformation="change_previous", unit="percent", **options
    )


# --- the book -------------------------------------------------------------------------------


def test_packaged_book_has_every_rule_of_the_contract() -> None:
    assert set(BOOK.rules) == {
        "change_vs_levels",
        "plan_vs_target",
        "components_vs_total",
        "conflicting_values",
        "revised_estimate",
        "same_document_values",
        "implausible_level",
        "implausible_jump",
        "density_vs_count",
    }
    for rule in BOOK.rules.values():
        assert rule.kind in KINDS
        assert rule.severity in ("error", "warning", "info")
        assert rule.message_vi and rule.message_en


def test_packaged_book_names_only_catalogue_indicators() -> None:
    codes = {item.code for item in indicators()}
    named = related_indicators(BOOK, []) | related_indicators(BOOK, codes)
    assert named == codes


def test_malformed_book_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[rules.x]\nkind = "nope"\nseverity = "warning"\nmessage_vi = "a"\nmessage_en = "b"\n',
        encoding="utf-8",
    )
    with pytest.raises(RuleBookError, match="unknown kind"):
        load_book(path)
    with pytest.raises(RuleBookError, match="message_en"):
        book_from({"rules": {"x": {"kind": "bounds", "severity": "info", "message_vi": "a"}}})


# --- change_vs_levels -----------------------------------------------------------------------


def test_stated_change_that_the_levels_contradict_is_flagged() -> None:
    stated = change(TOTAL, "2023", 4.44, status="E")
    level = obs(TOTAL, "2023", 2_980_000, status="E")
    previous = obs(TOTAL, "2022", 2_957_000, docs=("doc-b",))
    [finding] = rules(check([stated, level, previous], BOOK), "change_vs_levels")
    assert finding.parts == tuple(
        sorted([(stated.id, "stated"), (level.id, "level"), (previous.id, "previous")])
    )
    assert (finding.indicator, finding.area, finding.period) == (TOTAL, "VN-38", "2023")
    assert finding.figures["stated"] == 4.44
    assert finding.figures["computed"] == pytest.approx(0.78, abs=0.01)
    assert (
        "4,44%" in finding.message_vi
        and "2.957.000 (2022) → 2.980.000 (2023)" in finding.message_vi
    )
    assert "+0,78%" in finding.message_vi
    assert "4.44%" in finding.message_en and "+0.78%" in finding.message_en


def test_stated_change_within_rounding_is_not_flagged() -> None:
    # 2 957 000 → 2 980 000 is +0.7778%: "0,78%" and "0,8%" are the same figure rounded
    for stated in (0.78, 0.8, 1):
        observations = [
            change(TOTAL, "2023", stated),
            obs(TOTAL, "2023", 2_980_000),
            obs(TOTAL, "2022", 2_957_000),
        ]
        assert rules(check(observations, BOOK), "change_vs_levels") == []


def test_estimates_get_room_for_revision() -> None:
    # the level moved about 1.3% since the estimate: fine for an estimate, not for actuals
    def observations(status: str) -> list[Obs]:
        return [
            change(TOTAL, "2023", 2.3, status=status),
            obs(TOTAL, "2023", 1_013_000, status=status),
            obs(TOTAL, "2022", 1_000_000),
        ]

    assert rules(check(observations("E"), BOOK), "change_vs_levels") == []
    assert len(rules(check(observations("A"), BOOK), "change_vs_levels")) == 1


def test_missing_levels_raise_nothing() -> None:
    observations = [change(TOTAL, "2023", 50.0), obs(TOTAL, "2023", 1_000_000)]
    assert rules(check(observations, BOOK), "change_vs_levels") == []


def test_sub_annual_previous_period_may_be_either_candidate() -> None:
    # 3% on the month before (1 000 → 1 030), 15% on the same month a year earlier (≈ 896)
    month = [obs(TOTAL, "2023-09", 1_030), obs(TOTAL, "2023-08", 1_000), obs(TOTAL, "2022-09", 896)]
    for stated in (3.0, 15.0):
        assert (
            rules(check([change(TOTAL, "2023-09", stated), *month], BOOK), "change_vs_levels") == []
        )
    [finding] = rules(check([change(TOTAL, "2023-09", 40.0), *month], BOOK), "change_vs_levels")
    assert finding.period == "2023-09"


def test_ratio_previous_and_change_in_own_unit_and_ranks() -> None:
    levels = [obs(TOTAL, "2023", 1_100), obs(TOTAL, "2022", 1_000)]
    ratio = obs(TOTAL, "2023", 110.0, transformation="ratio_previous", unit="percent")
    absolute = obs(TOTAL, "2023", 100, transformation="change_previous")
    assert rules(check([ratio, absolute, *levels], BOOK), "change_vs_levels") == []
    wrong = ratio._replace(id=next(_ids), value=120.0)
    assert len(rules(check([wrong, *levels], BOOK), "change_vs_levels")) == 1
    # "tăng 5 bậc": the rank number fell from 20 to 15
    ranks = [obs("dti.rank", "2023", 15, unit="rank"), obs("dti.rank", "2022", 20, unit="rank")]
    up = obs("dti.rank", "2023", 5, transformation="change_previous", unit="rank")
    assert rules(check([up, *ranks], BOOK), "change_vs_levels") == []
    down = up._replace(id=next(_ids), value=-5)
    [finding] = rules(check([down, *ranks], BOOK), "change_vs_levels")
    assert "bậc" in finding.message_vi


def test_percent_change_of_a_percent_level_may_be_points_or_relative() -> None:
    share = "egov.online_application_rate"
    levels = [obs(share, "2023", 60, unit="percent"), obs(share, "2022", 50, unit="percent")]
    for stated in (10.0, 20.0):  # 10 points, or 20% up
        assert (
            rules(check([change(share, "2023", stated), *levels], BOOK), "change_vs_levels") == []
        )
    assert len(rules(check([change(share, "2023", 15.0), *levels], BOOK), "change_vs_levels")) == 1


def test_only_current_versions_are_compared() -> None:
    stale = change(TOTAL, "2023", 50.0, current=False)
    levels = [obs(TOTAL, "2023", 1_100), obs(TOTAL, "2022", 1_000)]
    assert (
        rules(check([stale, change(TOTAL, "2023", 10.0), *levels], BOOK), "change_vs_levels") == []
    )


# --- plan_vs_target -------------------------------------------------------------------------


def test_plan_ratio_and_change_against_the_target() -> None:
    level = obs(TOTAL, "2023", 2_040_000)
    target = obs(TOTAL, "2023", 2_000_000, measure="target", status="F")
    good = [
        obs(TOTAL, "2023", 102.0, transformation="ratio_plan", unit="percent"),
        obs(TOTAL, "2023", 2.0, transformation="change_plan", unit="percent"),
    ]
    assert rules(check([level, target, *good], BOOK), "plan_vs_target") == []
    bad = obs(TOTAL, "2023", 117.1, transformation="ratio_plan", unit="percent")
    [finding] = rules(check([level, target, bad], BOOK), "plan_vs_target")
    assert {part for _, part in finding.parts} == {"stated", "level", "target"}
    assert finding.figures["computed"] == pytest.approx(102.0)


def test_plan_of_the_year_serves_a_quarter() -> None:
    quarter = obs(TOTAL, "2024-Q1", 500_000)
    target = obs(TOTAL, "2024", 2_000_000, measure="target", status="F")
    stated = obs(TOTAL, "2024-Q1", 25.0, transformation="ratio_plan", unit="percent")
    assert rules(check([quarter, target, stated], BOOK), "plan_vs_target") == []
    wrong = stated._replace(id=next(_ids), value=40.0)
    [finding] = rules(check([quarter, target, wrong], BOOK), "plan_vs_target")
    assert finding.period == "2024-Q1"  # filed where the statement is
    assert rules(check([quarter, wrong], BOOK), "plan_vs_target") == []  # no target: quiet


# --- components_vs_total --------------------------------------------------------------------


def test_components_against_their_total() -> None:
    total = obs(TOTAL, "2023", 2_980_000)
    fixed = obs(FIXED, "2023", 25_000)
    mobile = obs(MOBILE, "2023", 2_955_000)
    assert rules(check([total, fixed, mobile], BOOK), "components_vs_total") == []
    rounded = mobile._replace(id=next(_ids), value=2_956_000)  # within rounding of the total
    assert rules(check([total, fixed, rounded], BOOK), "components_vs_total") == []
    short = fixed._replace(id=next(_ids), value=2_785)
    [finding] = rules(check([total, short, mobile], BOOK), "components_vs_total")
    assert finding.indicator == TOTAL
    assert {part for _, part in finding.parts} == {"total", "component"}
    # one part known: it may be smaller, never larger
    assert rules(check([total, mobile], BOOK), "components_vs_total") == []
    big = mobile._replace(id=next(_ids), value=3_500_000)
    assert len(rules(check([total, big], BOOK), "components_vs_total")) == 1


def test_shares_of_one_whole_past_100() -> None:
    book = load_book()
    rule = book.rules["components_vs_total"]
    params = {**rule.params, "shares": [{"indicators": ["a.share", "b.share"]}]}
    book.rules["components_vs_total"] = replace(rule, params=params)
    shares = [
        obs("a.share", "2023", 60, unit="percent"),
        obs("b.share", "2023", 40, unit="percent"),
    ]
    assert rules(check(shares, book), "components_vs_total") == []
    shares.append(shares[1]._replace(id=next(_ids), indicator="b.share", value=55))
    shares.pop(1)
    [finding] = rules(check(shares, book), "components_vs_total")
    assert finding.figures["sum"] == 115
    assert related_indicators(book, ["a.share"]) == {"a.share", "b.share"}


# --- conflicting_values, revised_estimate, same_document_values ----------------------------


def test_two_documents_disagreeing() -> None:
    one = obs(TOTAL, "2023", 1_000_000, docs=("doc-a",))
    other = obs(TOTAL, "2023", 1_100_000, docs=("doc-b",), current=False)
    [finding] = rules(check([one, other], BOOK), "conflicting_values")
    assert finding.parts == ((one.id, "value"), (other.id, "value"))
    rounded = other._replace(id=next(_ids), value=1_000_400)
    assert rules(check([one, rounded], BOOK), "conflicting_values") == []
    targets = [
        obs(TOTAL, "2025", 3e6, measure="target", status="F", docs=("doc-a",)),
        obs(TOTAL, "2025", 3.5e6, measure="target", status="F", docs=("doc-b",), current=False),
    ]
    assert len(rules(check(targets, BOOK), "conflicting_values")) == 1


def test_estimate_and_actual_are_a_revision_not_a_conflict() -> None:
    estimate = obs(TOTAL, "2023", 1_000_000, status="E", docs=("doc-a",), current=False)
    actual = obs(TOTAL, "2023", 1_030_000, status="A", docs=("doc-b",))
    findings = check([estimate, actual], BOOK)
    assert rules(findings, "conflicting_values") == []
    [finding] = rules(findings, "revised_estimate")
    assert finding.severity == "info"
    assert finding.figures["first"] == 1_000_000  # the estimate comes first
    close = actual._replace(id=next(_ids), value=1_001_000)
    assert rules(check([estimate, close], BOOK), "revised_estimate") == []


def test_one_document_giving_several_values() -> None:
    values = [obs(TOTAL, "2023", value, docs=("doc-a",)) for value in (9_347, 2_587, 2_744)]
    [finding] = rules(check(values, BOOK), "same_document_values")
    assert len(finding.parts) == 3 and "3" in finding.message_en
    assert rules(check(values, BOOK), "conflicting_values") == []  # not between documents
    # a second document repeating a subset adds no finding
    echo = [v._replace(documents=("doc-a", "doc-b")) for v in values[:2]]
    assert len(rules(check([*echo, values[2]], BOOK), "same_document_values")) == 1


def test_sub_annual_change_may_have_two_values() -> None:
    # "tăng 3% so với tháng trước và 15% so với cùng kỳ": both right
    two = [change(TOTAL, "2023-09", 3.0), change(TOTAL, "2023-09", 15.0, current=False)]
    assert rules(check(two, BOOK), "same_document_values") == []
    three = [*two, change(TOTAL, "2023-09", 40.0, current=False)]
    assert len(rules(check(three, BOOK), "same_document_values")) == 1
    yearly = [change(TOTAL, "2023", 3.0), change(TOTAL, "2023", 15.0, current=False)]
    assert len(rules(check(yearly, BOOK), "same_document_values")) == 1


# --- implausible_level, implausible_jump -----------------------------------------------------


def test_bounds() -> None:
    share = obs("egov.online_application_rate", "2023", 120, unit="percent")
    hours = obs("broadcast.tv_hours_per_day", "2023", 25, unit="hours_per_day")
    rank = obs("dti.rank", "2023", 64, unit="rank")
    negative = obs(TOTAL, "2023", -5)
    fall = change(TOTAL, "2023", -120.0)
    fine = [
        obs("egov.online_application_rate", "2022", 100, unit="percent"),
        obs("broadcast.tv_hours_per_day", "2022", 24, unit="hours_per_day"),
        obs("dti.rank", "2022", 63, unit="rank"),
        obs("dti.rank", "2022", 80, unit="rank", area="VN"),  # the country ranks among more
        change(TOTAL, "2022", -100.0),
    ]
    flagged = rules(check([share, hours, rank, negative, fall, *fine], BOOK), "implausible_level")
    assert {f.parts[0][0] for f in flagged} == {share.id, hours.id, rank.id, negative.id, fall.id}
    assert all(f.severity == "error" for f in flagged)


def test_year_on_year_jump() -> None:
    stock = [obs(TOTAL, "2023", 2_000_000), obs(TOTAL, "2022", 1_000_000)]
    [finding] = rules(check(stock, BOOK), "implausible_jump")
    assert finding.figures["factor"] == 2
    steady = [obs(TOTAL, "2023", 1_050_000), obs(TOTAL, "2022", 1_000_000)]
    assert rules(check(steady, BOOK), "implausible_jump") == []
    flows = [obs("egov.documents.issued", "2023", 50), obs("egov.documents.issued", "2022", 5)]
    assert rules(check(flows, BOOK), "implausible_jump") == []  # too small a base to judge
    months = [obs(TOTAL, "2023-05", 2_000_000), obs(TOTAL, "2023-04", 1_000_000)]
    assert rules(check(months, BOOK), "implausible_jump") == []  # only a year apart


# --- density_vs_count -----------------------------------------------------------------------


def test_density_and_count_imply_one_population() -> None:
    phone = [obs(DENSITY, "2023", 81.5, unit="per_100_people"), obs(TOTAL, "2023", 2_980_000)]
    assert rules(check(phone, BOOK), "density_vs_count") == []  # about 3.66 million people
    internet = [
        obs("telecom.internet.density", "2023", 67.0, unit="per_100_people"),
        obs("telecom.internet.subscribers", "2023", 2_450_000),
    ]
    assert rules(check([*phone, *internet], BOOK), "density_vs_count") == []
    off = [internet[0]._replace(id=next(_ids), value=40.0), internet[1]]
    [finding] = rules(check([*phone, *off], BOOK), "density_vs_count")
    assert {part for _, part in finding.parts} == {"density", "count"} and len(finding.parts) == 4
    tiny = [obs(DENSITY, "2023", 23, unit="per_100_people"), obs(TOTAL, "2023", 4_429)]
    [finding] = rules(check(tiny, BOOK), "density_vs_count")
    assert finding.figures["population"] == pytest.approx(19_256.5, rel=1e-3)


# --- keys, order, relations ------------------------------------------------------------------


def test_key_is_stable_and_depends_on_rule_and_parts() -> None:
    observations = [
        change(TOTAL, "2023", 9.0),
        obs(TOTAL, "2023", 1_000),
        obs(TOTAL, "2022", 1_000),
    ]
    first = check(observations, BOOK)
    again = check(list(reversed(observations)), BOOK)
    assert [f.key for f in first] == [f.key for f in again]
    [finding] = first
    assert len(finding.key) == 40 and int(finding.key, 16) >= 0
    assert replace(finding, message_en="other", figures={}).key == finding.key
    assert replace(finding, rule="other").key != finding.key
    assert replace(finding, parts=finding.parts[:2]).key != finding.key


def test_related_indicators_is_the_closure() -> None:
    assert related_indicators(BOOK, [FIXED]) >= {TOTAL, FIXED, MOBILE, DENSITY}
    # all density/count pairs of a cell are compared with each other
    assert "telecom.internet.subscribers" in related_indicators(BOOK, [MOBILE])
    assert related_indicators(BOOK, ["egov.procedures.total"]) == {"egov.procedures.total"}
