"""The generic checks (the `kind` of a rule). Each reads the index and the rule's params and
yields findings; none knows an indicator by name: the relations are the rule's data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chiso_indicators.quality.model import NAMES, Finding, Index, Obs
from chiso_indicators.quality.numbers import (
    half_unit,
    half_unit_bound,
    number,
    quantity,
    rounding_widens,
)
from chiso_indicators.quality.rules import Rule, RuleBook
from chiso_shared.periods import Period

__all__ = ["KIND_CHECKS"]

Check = Callable[[Rule, Index, RuleBook], Iterator[Finding]]
LANGS = ("vi", "en")
Fields = dict[str, dict[str, str]]  # per language, the template's fields


# --- building a finding ---------------------------------------------------------------------


def _finding(
    rule: Rule,
    index: Index,
    anchor: Obs,
    parts: Sequence[tuple[Obs, str]],
    figures: Mapping[str, float],
    fields: Fields,
    template: tuple[str, str] | None = None,
    period: str | None = None,
) -> Finding:
    """A finding filed under the anchor's cell, at `period` or else the latest period its
    parts involve."""
    period = period or index.latest([obs.period for obs, _ in parts])
    vi, en = template or (rule.message_vi, rule.message_en)
    messages = []
    for lang, text in zip(LANGS, (vi, en), strict=True):
        values = {
            "name": NAMES.name(anchor.indicator, lang),
            "area": NAMES.area_name(anchor.area, lang, period),
            "period": period,
            **fields.get(lang, {}),
        }
        messages.append(text.format_map(values))
    return Finding(
        rule=rule.code,
        severity=rule.severity,
        indicator=anchor.indicator,
        area=anchor.area,
        period=period,
        parts=tuple(sorted({(obs.id, part) for obs, part in parts})),
        figures={name: round(value, 6) for name, value in figures.items()},
        message_vi=messages[0],
        message_en=messages[1],
    )


def _each(render: Callable[[str], str]) -> dict[str, str]:
    return {lang: render(lang) for lang in LANGS}


def _fields(**per_lang: dict[str, str]) -> Fields:
    return {lang: {name: texts[lang] for name, texts in per_lang.items()} for lang in LANGS}


def _q(book: RuleBook, value: float, unit: str, **options: bool) -> dict[str, str]:
    return _each(lambda lang: quantity(value, unit, lang, book, **options))


def _selected(entry: Mapping[str, Any], **facets: str) -> bool:
    """Whether a data entry's selectors (a text or a list of texts each) all match."""
    for name, value in facets.items():
        wanted = entry.get(name)
        if wanted is None:
            continue
        if value not in ([wanted] if isinstance(wanted, str) else wanted):
            return False
    return True


# --- a stated change or ratio against two levels ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    level: Obs
    base: Obs
    mode: str  # relative | ratio | points | difference
    computed: float
    tolerance: float
    miss: float  # |stated - computed|


_FORMULAS: dict[str, Callable[[float, float], float]] = {
    "relative": lambda level, base: 100 * (level / base - 1),
    "ratio": lambda level, base: 100 * level / base,
    "points": lambda level, base: level - base,
    "difference": lambda level, base: level - base,
    "inverted": lambda level, base: base - level,
}
# the modes that divide by the base: none for a base at or below zero
_PER_BASE = frozenset(("relative", "ratio"))


@dataclass(slots=True)
class _Stated:
    """What a stated-figure rule needs for every figure, worked out once per run: its params,
    and the levels a figure of each period compares with."""

    plan: bool
    inverted: Sequence[str]
    estimates: frozenset[str]
    slack_points: float
    estimate_slack_points: float
    slack_relative: float
    estimate_slack_relative: float
    widens: bool  # rounding_widens(book)
    _bases: dict[str, list[tuple[str, str]]]

    @classmethod
    def of(cls, rule: Rule, book: RuleBook) -> _Stated:
        params = rule.params
        return cls(
            plan=params.get("basis") == "plan",
            inverted=params.get("inverted_units", ()),
            estimates=frozenset(params["estimate_statuses"]),
            slack_points=float(params["slack_points"]),
            estimate_slack_points=float(params["estimate_slack_points"]),
            slack_relative=float(params["slack_relative"]),
            estimate_slack_relative=float(params["estimate_slack_relative"]),
            widens=rounding_widens(book),
            _bases={},
        )

    def bases(self, index: Index, period: str) -> list[tuple[str, str]]:
        """(period, measure) of the levels a figure stated for `period` may compare with."""
        found = self._bases.get(period)
        if found is None:
            found = self._bases[period] = _bases(index, period, self.plan)
        return found


def stated_against_levels(rule: Rule, index: Index, book: RuleBook) -> Iterator[Finding]:
    """A change or ratio the report states (against the previous period, or the plan) vs the
    one the levels give; flagged only when no reading of the basis matches."""
    plan = rule.params.get("basis") == "plan"
    wanted = ("change_plan", "ratio_plan") if plan else ("change_previous", "ratio_previous")
    stated_rule: _Stated | None = None
    for (_, _, measure, transformation, _), by_period in index.current.items():
        if measure != "actual" or transformation not in wanted:
            continue
        stated_rule = stated_rule or _Stated.of(rule, book)
        for stated in by_period.values():
            if not index.anchored(stated.period):
                continue
            finding = _check_stated(rule, index, book, stated, stated_rule)
            if finding is not None:
                yield finding


def _bases(index: Index, text: str, plan: bool) -> list[tuple[str, str]]:
    """(period, measure) of the levels a figure stated for period `text` may compare with."""
    if not plan:
        return [(period, "actual") for period in index.previous(text)]
    found = [(text, "target")]
    period = index.period(text)
    if period is not None and period.frequency != "A" and period.end.year == period.year:
        found.append((str(Period.annual(period.year)), "target"))
    return found


def _modes(stated: Obs, level: Obs, inverted: Sequence[str]) -> list[str]:
    if stated.transformation.startswith("ratio"):
        return ["ratio"] if stated.unit == "percent" else []
    if stated.unit == "percent":
        return ["points", "relative"] if level.unit == "percent" else ["relative"]
    if stated.unit == level.unit:
        return ["inverted" if level.unit in inverted else "difference"]
    return []


def _check_stated(
    rule: Rule, index: Index, book: RuleBook, stated: Obs, settings: _Stated
) -> Finding | None:
    levels = index.levels_of((stated.indicator, stated.area, "actual", stated.period))
    if not levels:
        return None
    bases = settings.bases(index, stated.period)
    candidates: list[_Candidate] = []
    for level in levels:
        modes = _modes(stated, level, settings.inverted)
        if not modes:
            continue
        for period, measure in bases:
            base = index.level(stated.indicator, stated.area, measure, period, level.unit)
            if base is None:
                continue
            for mode in modes:
                if _plainly_matches(settings, book, stated, level, base, mode):
                    return None
                candidate = _candidate(settings, book, stated, level, base, mode)
                if candidate is None:
                    continue
                if candidate.miss <= candidate.tolerance:
                    return None
                candidates.append(candidate)
    if not candidates:
        return None
    best = min(candidates, key=lambda candidate: candidate.miss - candidate.tolerance)
    return _stated_finding(rule, index, book, stated, best, settings.plan)


def _plainly_matches(
    settings: _Stated, book: RuleBook, stated: Obs, level: Obs, base: Obs, mode: str
) -> bool:
    """Whether the stated figure is within the slack of this reading before any rounding is
    allowed for. Rounding only widens the tolerance (`_candidate` adds it to this slack), so
    `_candidate` would take such a figure as matching too; most stated figures are, and this
    spares working out the rounding of three numbers for each. False: ask `_candidate`."""
    if not settings.widens:
        return False
    if mode in _PER_BASE and not base.value > half_unit_bound(base.value, book):
        return False  # the base, less its rounding, may be at or below zero
    miss = abs(stated.value - _FORMULAS[mode](level.value, base.value))
    # a finite slack: an infinite level makes the careful tolerance NaN, which matches nothing
    return miss <= _slack(settings, stated, level, base, mode) < math.inf


def _slack(settings: _Stated, stated: Obs, level: Obs, base: Obs, mode: str) -> float:
    """The tolerance beyond rounding: a few points for a stated percent, a share of the larger
    level for a change in the level's unit; more when an estimate is involved."""
    estimates = settings.estimates
    revised = stated.status in estimates or level.status in estimates or base.status in estimates
    if stated.unit == "percent":
        slack = settings.slack_points
        if revised:
            # a revision of a level by a share moves a change by that share of the ratio
            scale = max(1.0, level.value / base.value) if mode != "points" else 1.0
            slack += settings.estimate_slack_points * scale
        return slack
    size = max(abs(level.value), abs(base.value))
    slack = settings.slack_relative * size
    if revised:
        slack += settings.estimate_slack_relative * size
    return slack


def _candidate(
    settings: _Stated, book: RuleBook, stated: Obs, level: Obs, base: Obs, mode: str
) -> _Candidate | None:
    formula = _FORMULAS[mode]
    spread_level = half_unit(level.value, level.unit, book)
    spread_base = half_unit(base.value, base.unit, book)
    if mode in _PER_BASE and base.value - spread_base <= 0:
        return None  # a change against nothing (or a negative base) has no percent
    computed = formula(level.value, base.value)
    corners = [
        formula(level.value + dl, base.value + db)
        for dl in (-spread_level, spread_level)
        for db in (-spread_base, spread_base)
    ]
    spread = max(abs(corner - computed) for corner in corners)
    slack = _slack(settings, stated, level, base, mode)
    tolerance = spread + half_unit(stated.value, stated.unit, book) + slack
    return _Candidate(level, base, mode, computed, tolerance, abs(stated.value - computed))


def _stated_finding(
    rule: Rule, index: Index, book: RuleBook, stated: Obs, best: _Candidate, plan: bool
) -> Finding:
    words = book.words.get(stated.transformation, {})
    ratio = stated.transformation.startswith("ratio")

    def phrase(lang: str) -> str:
        after = words.get(f"{lang}_after", "")
        if ratio:
            return f"{words.get(lang, '')} {quantity(stated.value, 'percent', lang, book)}{after}"
        word = words.get(f"{lang}_{'down' if stated.value < 0 else 'up'}", "")
        amount = quantity(abs(stated.value), stated.unit, lang, book, change=True)
        return f"{word} {amount}{after}"

    if ratio:
        computed = _q(book, best.computed, "percent")
    else:
        computed = _q(book, best.computed, stated.unit, signed=True, change=True)
    base_name = "target" if plan else "previous"
    fields = _fields(
        stated=_each(phrase),
        computed=computed,
        level=_q(book, best.level.value, best.level.unit),
        tolerance=_each(lambda lang: number(best.tolerance, lang)),
        stated_period=dict.fromkeys(LANGS, stated.period),
        **{
            base_name: _q(book, best.base.value, best.base.unit),
            f"{base_name}_period": dict.fromkeys(LANGS, best.base.period),
        },
    )
    figures = {
        "stated": stated.value,
        "computed": best.computed,
        "tolerance": best.tolerance,
        "level": best.level.value,
        base_name: best.base.value,
    }
    parts = [(stated, "stated"), (best.level, "level"), (best.base, base_name)]
    # filed where the statement is: a quarter's "đạt X% kế hoạch năm" against the year's
    # target is the quarter's problem, and the store re-checks a statement's period
    return _finding(rule, index, stated, parts, figures, fields, period=stated.period)


# --- parts of a whole -------------------------------------------------------------------------


def parts_of_whole(rule: Rule, index: Index, book: RuleBook) -> Iterator[Finding]:
    """Components against their total (equal when all are known and they make it up; never
    more than it), and shares of one whole that add up past 100."""
    slack = float(rule.params.get("slack_relative", 0.0))
    widens = rounding_widens(book)
    for relation in rule.params.get("sums", ()):
        for total in index.by_indicator.get(relation["total"], ()):
            if not index.anchored(total.period):
                continue
            found = [
                index.level(code, total.area, total.measure, total.period, total.unit)
                for code in relation["components"]
            ]
            present = [obs for obs in found if obs is not None]
            if not present:
                continue
            summed = sum(obs.value for obs in present)
            difference = summed - total.value
            exact = bool(relation.get("exact")) and len(present) == len(found)
            share = slack * max(abs(total.value), abs(summed))
            if widens and difference <= share and (not exact or -difference <= share):
                continue  # within the slack alone: the rounding added to it changes nothing
            tolerance = half_unit(total.value, total.unit, book) + share
            tolerance += sum(half_unit(obs.value, obs.unit, book) for obs in present)
            if difference > tolerance or (exact and -difference > tolerance):
                yield _sum_finding(rule, index, book, total, present, difference, tolerance)
    for group in rule.params.get("shares", ()):
        yield from _shares(rule, index, book, list(group["indicators"]), slack)


def _sum_finding(
    rule: Rule,
    index: Index,
    book: RuleBook,
    total: Obs,
    present: list[Obs],
    difference: float,
    tolerance: float,
) -> Finding:
    unit = total.unit
    fields = _fields(
        total=_q(book, total.value, unit),
        components=_each(
            lambda lang: " + ".join(quantity(obs.value, unit, lang, book) for obs in present)
        ),
        sum=_q(book, total.value + difference, unit),
        difference=_q(book, difference, unit, signed=True),
        tolerance=_q(book, tolerance, unit),
    )
    figures = {
        "total": total.value,
        "sum": total.value + difference,
        "difference": difference,
        "tolerance": tolerance,
    }
    parts = [(total, "total"), *((obs, "component") for obs in present)]
    return _finding(rule, index, total, parts, figures, fields)


def _shares(
    rule: Rule, index: Index, book: RuleBook, codes: list[str], slack: float
) -> Iterator[Finding]:
    cells: dict[tuple[str, str, str], list[Obs]] = {}
    for code in codes:
        for obs in index.by_indicator.get(code, ()):
            if obs.unit == "percent" and index.anchored(obs.period):
                cells.setdefault((obs.area, obs.measure, obs.period), []).append(obs)
    for members in cells.values():
        if len(members) < 2:
            continue
        summed = sum(obs.value for obs in members)
        tolerance = sum(half_unit(obs.value, obs.unit, book) for obs in members) + slack * 100
        if summed <= 100 + tolerance:
            continue
        fields = _fields(
            total=_q(book, 100, "percent"),
            components=_each(
                lambda lang, members=members: " + ".join(  # type: ignore[misc]
                    quantity(obs.value, "percent", lang, book) for obs in members
                )
            ),
            sum=_q(book, summed, "percent"),
            difference=_q(book, summed - 100, "percent", signed=True),
            tolerance=_q(book, tolerance, "percent"),
        )
        figures = {"total": 100.0, "sum": summed, "difference": summed - 100}
        template = rule.messages.get("share_message")
        parts = [(obs, "component") for obs in members]
        yield _finding(rule, index, members[0], parts, figures, fields, template)


# --- versions of one value that disagree ------------------------------------------------------


def disagreement(rule: Rule, index: Index, book: RuleBook) -> Iterator[Finding]:
    """Versions of one (series, period) whose values differ beyond rounding and a relative
    tolerance, restricted by where they come from and by their statuses: pair by pair, or
    (`documents = "same"`) all the values one document gives at once."""
    params = rule.params
    relative = float(params.get("relative_tolerance", 0.0))
    same = params.get("documents") == "same"
    for group in index.versions.values():  # only values with two versions or more
        if not index.anchored(group[0].period) or _ambiguous(params, group):
            continue
        ordered = sorted(group, key=lambda obs: obs.id)
        if same:
            yield from _same_document(rule, index, book, ordered, relative)
            continue
        for position, one in enumerate(ordered):
            for other in ordered[position + 1 :]:
                pair = _ordered_pair(params, one, other)
                if pair is None or not _documents_match(params, one, other):
                    continue
                first, second = pair
                if _differ(book, relative, first, second):
                    yield _disagreement_finding(rule, index, book, first, second)


def _ambiguous(params: Mapping[str, Any], group: Sequence[Obs]) -> bool:
    """Whether the values may all be right: "previous period" names both the period before
    and the same period a year earlier, so a sub-annual change may rightly have two values."""
    rule = params.get("ambiguous")
    first = group[0]
    if not rule or not _selected(
        rule, transformations=first.transformation, frequencies=first.frequency
    ):
        return False
    return len({obs.value for obs in group}) <= int(rule.get("max_values", 1))


def _differ(book: RuleBook, relative: float, first: Obs, second: Obs) -> bool:
    allowed = half_unit(first.value, first.unit, book) + half_unit(second.value, second.unit, book)
    allowed += relative * max(abs(first.value), abs(second.value))
    return abs(first.value - second.value) > allowed


def _same_document(
    rule: Rule, index: Index, book: RuleBook, ordered: list[Obs], relative: float
) -> Iterator[Finding]:
    """One finding per document that gives differing values for one (series, period)."""
    by_document: dict[str, list[Obs]] = {}
    for obs in ordered:
        for document in obs.documents:
            by_document.setdefault(document, []).append(obs)
    seen: list[set[int]] = []
    # the largest sets first: a document whose values another's include adds nothing
    for document in sorted(by_document, key=lambda d: (-len(by_document[d]), d)):
        versions = by_document[document]
        ids = {obs.id for obs in versions}
        if len(versions) < 2 or any(ids <= earlier for earlier in seen):
            continue
        if _ambiguous(rule.params, versions):
            continue
        seen.append(ids)
        low = min(versions, key=lambda obs: obs.value)
        high = max(versions, key=lambda obs: obs.value)
        if not _differ(book, relative, low, high):
            continue
        unit = low.unit
        fields = _fields(
            values=_each(
                lambda lang, versions=versions, unit=unit: "; ".join(  # type: ignore[misc]
                    quantity(obs.value, unit, lang, book) for obs in versions
                )
            ),
            count=_each(lambda _, versions=versions: str(len(versions))),  # type: ignore[misc]
        )
        figures = {"min": low.value, "max": high.value, "count": float(len(versions))}
        parts = [(obs, "value") for obs in versions]
        yield _finding(rule, index, versions[0], parts, figures, fields)


def _ordered_pair(params: Mapping[str, Any], one: Obs, other: Obs) -> tuple[Obs, Obs] | None:
    mode = params.get("statuses", "any")
    if mode == "same_family":
        families = params["families"]
        family = families.get(one.status)
        return (one, other) if family is not None and family == families.get(other.status) else None
    if mode == "revision":
        revisions = {tuple(pair) for pair in params["revisions"]}
        if (one.status, other.status) in revisions:
            return one, other
        if (other.status, one.status) in revisions:
            return other, one
        return None
    return one, other


def _documents_match(params: Mapping[str, Any], one: Obs, other: Obs) -> bool:
    mode = params.get("documents", "any")
    if mode == "same":
        return bool(set(one.documents) & set(other.documents))
    if mode == "different":
        # a document gives one value and not the other, and another document the reverse
        # (versions that share all their documents disagree within a document)
        return bool(set(one.documents) - set(other.documents)) and bool(
            set(other.documents) - set(one.documents)
        )
    return True


def _disagreement_finding(
    rule: Rule, index: Index, book: RuleBook, first: Obs, second: Obs
) -> Finding:
    gap = second.value - first.value
    share = abs(gap) / max(abs(first.value), abs(second.value)) * 100
    fields = _fields(
        first=_q(book, first.value, first.unit),
        second=_q(book, second.value, second.unit),
        difference=_each(
            lambda lang: f"{quantity(abs(gap), first.unit, lang, book)}, {number(share, lang)}%"
        ),
    )
    figures = {"first": first.value, "second": second.value, "difference": gap}
    parts = [(first, "value"), (second, "value")]
    return _finding(rule, index, first, parts, figures, fields)


# --- bounds -----------------------------------------------------------------------------------


def bounds(rule: Rule, index: Index, book: RuleBook) -> Iterator[Finding]:
    """Values outside the plausible range of their indicator, unit and transformation."""
    entries = rule.params.get("bounds", ())
    # the range depends on the area only through its level: worked out once per kind of series
    ranges: dict[tuple[str, str, str, str, str], tuple[float | None, float | None]] = {}
    for (indicator, area, measure, transformation, unit), by_period in index.current.items():
        kind = (indicator, NAMES.area_level(area), measure, transformation, unit)
        limits = ranges.get(kind)
        if limits is None:
            limits = ranges[kind] = _range(entries, *kind)
        low, high = limits
        if low is None and high is None:
            continue
        for obs in by_period.values():
            if not index.anchored(obs.period):
                continue
            if (low is not None and obs.value < low) or (high is not None and obs.value > high):
                yield _bounds_finding(rule, index, book, obs, low, high)


def _range(
    entries: Sequence[Mapping[str, Any]], indicator: str, area_level: str, *facets: str
) -> tuple[float | None, float | None]:
    measure, transformation, unit = facets
    low: float | None = None
    high: float | None = None
    for entry in entries:
        if not _selected(
            entry,
            indicator=indicator,
            measure=measure,
            transformation=transformation,
            unit=unit,
            area_level=area_level,
        ):
            continue
        if "min" in entry:
            low = float(entry["min"]) if low is None else max(low, float(entry["min"]))
        if "max" in entry:
            high = float(entry["max"]) if high is None else min(high, float(entry["max"]))
    return low, high


def _bounds_finding(
    rule: Rule, index: Index, book: RuleBook, obs: Obs, low: float | None, high: float | None
) -> Finding:
    change = obs.transformation != "level"
    fields = _fields(
        value=_q(book, obs.value, obs.unit, change=change),
        low=_q(book, low, obs.unit, change=change) if low is not None else _each(lambda _: "−∞"),
        high=_q(book, high, obs.unit, change=change) if high is not None else _each(lambda _: "∞"),
    )
    figures = {"value": obs.value}
    if low is not None:
        figures["min"] = low
    if high is not None:
        figures["max"] = high
    return _finding(rule, index, obs, [(obs, "value")], figures, fields)


# --- year-on-year jumps -----------------------------------------------------------------------


def jump(rule: Rule, index: Index, book: RuleBook) -> Iterator[Finding]:
    """A level against the same period a year earlier, past the indicator's threshold."""
    entries = rule.params.get("thresholds", ())
    # the first entry that selects an (indicator, unit), looked up once per pair
    thresholds: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for (indicator, _, measure, transformation, unit), by_period in index.current.items():
        if measure != "actual" or transformation != "level" or len(by_period) < 2:
            continue
        if (indicator, unit) not in thresholds:
            thresholds[indicator, unit] = next(
                (e for e in entries if _selected(e, indicator=indicator, unit=unit)), None
            )
        threshold = thresholds[indicator, unit]
        if threshold is None:
            continue
        for period, obs in by_period.items():
            if not index.anchored(period):
                continue
            earlier = index.year_before(period)
            previous = by_period.get(earlier) if earlier is not None else None
            if previous is not None:
                finding = _jump(rule, index, book, threshold, obs, previous)
                if finding is not None:
                    yield finding


def _jump(
    rule: Rule,
    index: Index,
    book: RuleBook,
    threshold: Mapping[str, Any],
    obs: Obs,
    previous: Obs,
) -> Finding | None:
    level, base = obs.value, previous.value
    if "max_ratio" in threshold:
        limit = float(threshold["max_ratio"])
        if level <= 0 or base <= 0 or min(level, base) < float(threshold.get("min_base", 0)):
            return None
        factor = max(level / base, base / level)
        if factor <= limit:
            return None
        shown = _each(lambda lang: "×" + number(level / base, lang))
        limit_text = _each(lambda lang: "×" + number(limit, lang))
        figures = {"level": level, "previous": base, "factor": level / base, "threshold": limit}
    else:
        limit = float(threshold["max_difference"])
        if abs(level - base) <= limit:
            return None
        shown = _q(book, level - base, obs.unit, signed=True, change=True)
        limit_text = _q(book, limit, obs.unit, change=True)
        figures = {
            "level": level,
            "previous": base,
            "difference": level - base,
            "threshold": limit,
        }
    fields = _fields(
        level=_q(book, level, obs.unit),
        previous=_q(book, base, obs.unit),
        previous_period=dict.fromkeys(LANGS, previous.period),
        factor=shown,
        threshold=limit_text,
    )
    return _finding(rule, index, obs, [(obs, "level"), (previous, "previous")], figures, fields)


# --- density vs count -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Implied:
    density: Obs
    count: Obs
    population: float

    def spread(self, book: RuleBook) -> float:
        """The share the population may be off by rounding alone."""
        spread = half_unit(self.density.value, self.density.unit, book) / self.density.value
        spread += half_unit(self.count.value, self.count.unit, book) / self.count.value
        return spread


def implied_population(rule: Rule, index: Index, book: RuleBook) -> Iterator[Finding]:
    """The population a density and its count imply (count / density × 100): within the
    plausible range of the area, and the same for every pair of one area and period."""
    params = rule.params
    ranges = params.get("population", {})
    cells: dict[tuple[str, str], list[_Implied]] = {}
    for pair in params.get("pairs", ()):
        for density in index.by_indicator.get(pair["density"], ()):
            if not index.anchored(density.period):
                continue
            if density.measure != "actual" or density.unit != "per_100_people":
                continue
            count = index.level(pair["count"], density.area, "actual", density.period, "count")
            if count is None or density.value <= 0 or count.value <= 0:
                continue
            implied = _Implied(density, count, count.value / density.value * 100)
            cells.setdefault((density.area, density.period), []).append(implied)
            plausible = ranges.get(NAMES.area_level(density.area))
            if plausible and not plausible["min"] <= implied.population <= plausible["max"]:
                yield _population_finding(rule, index, book, implied, plausible)
    tolerance = float(params.get("relative_tolerance", 0.0))
    widens = rounding_widens(book)
    for items in cells.values():
        for position, one in enumerate(items):
            for other in items[position + 1 :]:
                gap = abs(one.population - other.population)
                larger = max(one.population, other.population)
                if widens and gap <= tolerance * larger:
                    continue  # within the tolerance alone: rounding only adds to it
                allowed = (tolerance + one.spread(book) + other.spread(book)) * larger
                if gap > allowed:
                    yield _pair_finding(rule, index, book, one, other)


def _implied_fields(book: RuleBook, implied: _Implied, prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}density": _q(book, implied.density.value, implied.density.unit),
        f"{prefix}count": _q(book, implied.count.value, implied.count.unit),
        f"{prefix}population": _q(book, round(implied.population), "count"),
    }


def _population_finding(
    rule: Rule, index: Index, book: RuleBook, implied: _Implied, plausible: Mapping[str, float]
) -> Finding:
    fields = _fields(
        **_implied_fields(book, implied),
        low=_q(book, float(plausible["min"]), "count"),
        high=_q(book, float(plausible["max"]), "count"),
    )
    figures = {
        "density": implied.density.value,
        "count": implied.count.value,
        "population": implied.population,
        "min": float(plausible["min"]),
        "max": float(plausible["max"]),
    }
    parts = [(implied.density, "density"), (implied.count, "count")]
    return _finding(rule, index, implied.density, parts, figures, fields)


def _pair_finding(
    rule: Rule, index: Index, book: RuleBook, one: _Implied, other: _Implied
) -> Finding:
    fields = _fields(
        **_implied_fields(book, one),
        **_implied_fields(book, other, "other_"),
        other_name=_each(lambda lang: NAMES.name(other.density.indicator, lang)),
    )
    figures = {"population": one.population, "other_population": other.population}
    parts = [
        (one.density, "density"),
        (one.count, "count"),
        (other.density, "density"),
        (other.count, "count"),
    ]
    template = rule.messages.get("pair_message")
    return _finding(rule, index, one.density, parts, figures, fields, template)


KIND_CHECKS: dict[str, Check] = {
    "stated_against_levels": stated_against_levels,
    "parts_of_whole": parts_of_whole,
    "disagreement": disagreement,
    "bounds": bounds,
    "jump": jump,
    "implied_population": implied_population,
}
