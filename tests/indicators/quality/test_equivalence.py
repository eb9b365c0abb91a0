"""The engine's findings on a few thousand varied observations stay exactly what they were
when `data/golden_findings.json` was written: a change to the engine that only makes it
faster must not change a single finding (rule, key, parts, figures, messages).

The observations are drawn from a seeded generator: levels and targets of related
indicators (a total and its parts, densities and their counts, shares, money, ranks) for a
few areas, monthly, quarterly, half-yearly, annual and span periods; stated changes in
percent and in the level's unit and ratios, on the previous period and on the plan, some of
them wrong; second versions from other documents, of other statuses, within one document.

When a finding is meant to change, write the golden again from the engine and review the
difference:

    .tools/bin/uv run --frozen --no-sync python tests/indicators/quality/test_equivalence.py
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from chiso_indicators import quality
from chiso_indicators.quality import Finding, Obs, RuleBook, check, load_book
from chiso_indicators.quality.numbers import half_unit, half_unit_bound
from chiso_indicators.quality.rules import book_from
from chiso_shared.periods import Period

GOLDEN = Path(__file__).parent / "data" / "golden_findings.json"
SEED = 18

AREAS = ("VN", "VN-38", "VN-01")
# (total, parts) as in components_vs_total; (density, count) as in density_vs_count
SUMS = (
    ("telecom.subscribers.total", ("telecom.subscribers.fixed", "telecom.subscribers.mobile")),
    ("postal_telecom.revenue", ("postal.revenue", "telecom.revenue")),
)
DENSITIES = (
    ("telecom.phone_density", "telecom.subscribers.total"),
    ("telecom.internet.density", "telecom.internet.subscribers"),
)
# a second share of the smartphone adult share's whole, for the shares check
SHARE = "digital_society.eid_share"
# indicator, unit, typical level
PLAIN = (
    ("telecom.internet.subscribers", "count", 900_000.0),
    ("telecom.bts.total", "count", 4_000.0),
    ("postal.items", "count", 120.0),
    ("telecom.fiber.household_share", "percent", 70.0),
    ("telecom.smartphone.subscriber_share", "percent", 60.0),
    ("telecom.broadband_fixed.speed", "Mbps", 80.0),
    ("postal.service_radius", "km", 3.2),
    ("telecom.smartphone.adult_share", "percent", 45.0),
    (SHARE, "percent", 48.0),
    ("dti.rank", "rank", 30.0),
    ("ict_index.rank", "rank", 12.0),
)
STATUSES = ("A", "A", "A", "E", "P", "F")


def _periods() -> list[tuple[str, str]]:
    """(period, frequency): two years of months and quarters, halves, years, spans."""
    found = [(str(year), "A") for year in (2021, 2022, 2023)]
    for year in (2022, 2023):
        found += [(f"{year}-S{half}", "S") for half in (1, 2)]
        found += [(f"{year}-Q{quarter}", "Q") for quarter in range(1, 5)]
        found += [(f"{year}-{month:02d}", "M") for month in range(1, 13)]
    found += [("2021-12/2022-11", "X"), ("2022-12/2023-11", "X"), ("2023-H9", "X")]
    return found


@dataclass
class _Drawer:
    """Draws the observations, series by series, with the seeded generator."""

    rng: random.Random
    found: list[Obs] = field(default_factory=list)

    def add(
        self,
        indicator: str,
        area: str,
        period: tuple[str, str],
        value: float,
        *,
        unit: str,
        transformation: str = "level",
        measure: str = "actual",
        status: str = "A",
        current: bool = True,
        documents: tuple[str, ...] | None = None,
    ) -> None:
        if documents is None:
            documents = (f"doc-{area}-{period[0][:4]}",)
        self.found.append(
            Obs(
                id=len(self.found) + 1,
                indicator=indicator,
                area=area,
                frequency=period[1],
                measure=measure,
                transformation=transformation,
                unit=unit,
                period=period[0],
                value=value,
                status=status,
                is_current=current,
                documents=documents,
            )
        )

    def series(self, indicator: str, area: str, unit: str, size: float) -> dict[str, float]:
        """Levels of one series with stated changes, targets and second versions; returns
        the current level by period (for totals and densities built on them)."""
        rng = self.rng
        levels: dict[str, float] = {}
        walk = size
        for period in _periods():
            walk *= rng.uniform(0.99, 1.03)
            if unit in ("percent", "rank"):
                walk = min(walk, size * 1.3)  # shares and ranks stay in range
            if rng.random() < 0.15:
                continue  # a gap: nothing to compare with
            value = self._value(unit, walk)
            if rng.random() < 0.015:
                value = self._value(unit, value * rng.choice((-1, 8, 0.05)))  # implausible
            status = rng.choice(STATUSES)
            self.add(indicator, area, period, value, unit=unit, status=status)
            levels[period[0]] = value
            if unit == "VND" and rng.random() < 0.3:
                # the same level in another unit: a cell with two levels
                self.add(indicator, area, period, round(value / 25_000), unit="USD")
            self._versions(indicator, area, period, value, unit, status)
            if rng.random() < 0.2:
                self._target(indicator, area, period, value, unit)
        for period in _periods():
            if period[0] in levels:
                self._changes(indicator, area, period, unit, levels)
        return levels

    def _value(self, unit: str, value: float) -> float:
        if unit == "rank":
            return float(max(1, round(value)))
        if unit == "percent" or abs(value) < 1000:
            return round(value, self.rng.choice((0, 1, 2)))
        return float(round(value, -self.rng.choice((0, 2, 3))))

    def _versions(
        self,
        indicator: str,
        area: str,
        period: tuple[str, str],
        value: float,
        unit: str,
        status: str,
    ) -> None:
        """Other versions of the same value: other documents, statuses, rounding, typos."""
        rng = self.rng
        for _ in range(rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2))):
            other = value * rng.choice((1, 1, 1, 1, 1.001, 1.02, 1.3))
            self.add(
                indicator,
                area,
                period,
                self._value(unit, other),
                unit=unit,
                status=rng.choice((status, *STATUSES)),
                current=False,
                documents=rng.choice(
                    ((f"doc-{area}-{period[0][:4]}",), ("doc-other",), ("doc-other", "doc-third"))
                ),
            )

    def _target(
        self, indicator: str, area: str, period: tuple[str, str], value: float, unit: str
    ) -> None:
        rng = self.rng
        target = self._value(unit, value * rng.uniform(0.8, 1.2))
        self.add(indicator, area, period, target, unit=unit, measure="target", status="F")
        if rng.random() < 0.8:
            ratio = round(100 * value / target, 2) if target > 0 else 100.0
            ratio += rng.choice((0, 0, 0, 0, 0, 0.004, 0.3, 7))
            self.add(indicator, area, period, ratio, unit="percent", transformation="ratio_plan")
        if rng.random() < 0.4 and target > 0:
            above = round(100 * (value / target - 1), 1) + rng.choice((0, 0, 2))
            self.add(indicator, area, period, above, unit="percent", transformation="change_plan")

    def _changes(
        self,
        indicator: str,
        area: str,
        period: tuple[str, str],
        unit: str,
        levels: dict[str, float],
    ) -> None:
        """Stated changes on the period before or a year earlier, right or wrong."""
        rng = self.rng
        parsed = Period.try_parse(period[0])
        if parsed is None or rng.random() < 0.4:
            return
        # mostly a right basis (the period before or a year earlier), now and then another
        bases = [str(parsed.in_year(parsed.year - 1))]
        if not parsed.is_span:
            bases.append(str(parsed.previous()))
        if rng.random() < 0.1:
            bases = [text for text in levels if text < period[0]]
        bases = [text for text in bases if text in levels]
        if not bases:
            return
        base = levels[rng.choice(bases)]
        level = levels[period[0]]
        status = rng.choice(STATUSES)
        error = rng.choice((0,) * 12 + (0.01, 0.8, 4, -25))
        if unit != "percent" and base > 0 and rng.random() < 0.7:
            change = round(100 * (level / base - 1), rng.choice((1, 2))) + error
            self.add(
                indicator,
                area,
                period,
                change,
                unit="percent",
                status=status,
                transformation="change_previous",
            )
        elif unit == "percent" and rng.random() < 0.5:
            change = round(level - base, 2) + error
            self.add(
                indicator,
                area,
                period,
                change,
                unit="percent",
                status=status,
                transformation="change_previous",
            )
        else:
            change = (base - level if unit == "rank" else level - base) + error * 10
            self.add(
                indicator,
                area,
                period,
                self._value(unit, change),
                unit=unit,
                status=status,
                transformation="change_previous",
            )
        if rng.random() < 0.3 and base > 0:
            ratio = round(100 * level / base, 2) + error
            self.add(
                indicator,
                area,
                period,
                ratio,
                unit="percent",
                status=status,
                transformation="ratio_previous",
            )
        if rng.random() < 0.08:
            # a second stated change from another document (the other "previous period")
            other = round(rng.uniform(-20, 40), 2)
            self.add(
                indicator,
                area,
                period,
                other,
                unit="percent",
                status=status,
                transformation="change_previous",
                current=False,
                documents=("doc-other",),
            )


def observations(seed: int = SEED) -> list[Obs]:
    """A few thousand observations touching every rule of the packaged book."""
    drawer = _Drawer(random.Random(seed))
    rng = drawer.rng
    for area in AREAS:
        scale = 10.0 if area == "VN" else 1.0
        for indicator, unit, size in PLAIN:
            if rng.random() < 0.7:
                drawer.series(indicator, area, unit, size * (scale if unit == "count" else 1))
        for total, parts in SUMS:
            unit = "VND" if "revenue" in total else "count"
            size = (5e11 if unit == "VND" else 2e6) * scale
            part_levels = [drawer.series(part, area, unit, size / 2) for part in parts]
            _totals(drawer, total, area, unit, part_levels)
        for density, count in DENSITIES:
            _densities(drawer, density, count, area)
    return drawer.found


def _totals(
    drawer: _Drawer, total: str, area: str, unit: str, part_levels: list[dict[str, float]]
) -> None:
    """Totals of the parts: mostly their sum, sometimes less, more or missing a part."""
    rng = drawer.rng
    for period in _periods():
        known = [levels[period[0]] for levels in part_levels if period[0] in levels]
        if not known or rng.random() < 0.2:
            continue
        if len(known) < len(part_levels) and rng.random() < 0.7:
            continue  # a total is mostly reported with all its parts
        value = sum(known) * rng.choice((1, 1, 1, 1, 1, 1, 1.0004, 0.9, 1.2))
        drawer.add(total, area, period, drawer._value(unit, value), unit=unit)


def _densities(drawer: _Drawer, density: str, count: str, area: str) -> None:
    """Densities against their counts; a population in or out of range, and two pairs of
    one area and period that do or do not agree on it."""
    rng = drawer.rng
    counts = {
        obs.period: obs
        for obs in drawer.found
        if obs.indicator == count
        and obs.area == area
        and obs.transformation == "level"
        and obs.is_current
    }
    population = 1e8 if area == "VN" else rng.choice((1.2e6, 3e6, 9e6))
    for period in _periods():
        if rng.random() < 0.3:
            continue
        base = counts.get(period[0])
        if base is None:
            # a count of our own so the density has one
            value = drawer._value("count", population * rng.uniform(0.5, 1.2))
            drawer.add(count, area, period, value, unit="count")
        else:
            value = base.value
        people = population * rng.choice((1,) * 16 + (1.05, 1.5, 20, 0.01))
        shown = round(max(value, 1) / people * 100, rng.choice((1, 2)))
        drawer.add(density, area, period, shown, unit="per_100_people", status=rng.choice(STATUSES))


def book() -> RuleBook:
    """The packaged rules, and a group of shares (the packaged book has none yet)."""
    document = tomllib.loads(
        resources.files(quality).joinpath("data", "rules.toml").read_text("utf-8")
    )
    sums = document["rules"]["components_vs_total"]["params"]
    sums["shares"] = [{"indicators": ["telecom.smartphone.adult_share", SHARE]}]
    return book_from(document)


def _plain(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "key": finding.key,
        "severity": finding.severity,
        "cell": [finding.indicator, finding.area, finding.period],
        "parts": [list(part) for part in finding.parts],
        "figures": finding.figures,
        "message_vi": finding.message_vi,
        "message_en": finding.message_en,
    }


def _found() -> Iterator[dict[str, Any]]:
    for finding in check(observations(), book()):
        yield _plain(finding)


def test_findings_are_exactly_the_golden_ones() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    found = list(_found())
    assert len(found) == len(golden)
    for mine, theirs in zip(found, golden, strict=True):
        assert mine == theirs


def test_the_golden_covers_every_rule() -> None:
    """The generator still reaches every rule, each several times (a golden of a few rules
    would let a change to the others through)."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for finding in golden:
        counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
    assert set(counts) == set(load_book().rules)
    assert sum(1 for item in golden if "shares" in item["message_en"]) >= 3
    assert min(counts.values()) >= 3


def test_half_unit_bound_bounds_half_unit() -> None:
    """The stated-figure check skips a figure's rounding when the base is plainly above it;
    that is exact only if `half_unit_bound` is never below `half_unit`."""
    rng = random.Random(SEED)
    book = load_book()
    values = [0.0, 0.5, 1.0, 10.0, 3e6, 1e15, 1e16, 123456789012.4, 5e-324, 1e300]
    for _ in range(20_000):
        value = rng.uniform(0, 10) * 10.0 ** rng.randint(-6, 16)
        values += [value, round(value, rng.randint(-6, 6)), -value]
    for value in values:
        for unit in ("count", "percent", "rank"):
            assert half_unit(value, unit, book) <= half_unit_bound(value, book), (value, unit)


def main() -> int:
    found = list(_found())
    GOLDEN.parent.mkdir(exist_ok=True)
    text = "[\n" + ",\n".join(json.dumps(item, ensure_ascii=False) for item in found) + "\n]\n"
    GOLDEN.write_text(text, encoding="utf-8")
    sys.stdout.write(f"{len(observations())} observations, {len(found)} findings → {GOLDEN}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
