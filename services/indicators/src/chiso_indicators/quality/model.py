"""The engine's input and output values, and the index the checks read.

`engine` re-exports `Obs` and `Finding`: import them from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from chiso_shared.catalogue import area_on, areas, indicators
from chiso_shared.periods import Period, PeriodError

__all__ = ["Finding", "Index", "Obs"]


class Obs(NamedTuple):
    """One version of a (series, period) value that still has a live source.

    A named tuple rather than a frozen dataclass: an import hands the checks one per version
    it touched, and a frozen dataclass's __init__ (a setattr per field) cost about 4 µs each,
    the tuple a tenth of that."""

    id: int  # observations.id
    indicator: str  # catalogue code
    area: str  # "VN" or "38"
    frequency: str  # A S Q M D X (chiso_shared.periods.Period.frequency)
    measure: str  # "actual" | "target"
    transformation: str  # "level", "change_previous", "ratio_plan", ...
    unit: str  # chiso_shared.facts.Unit values
    period: str  # "2023", "2023-Q3", "2023-11", "2021-12/2023-11", ...
    value: float
    status: str  # "A" | "E" | "F" | "P"
    is_current: bool  # the version the series serves for this (series, period)
    documents: tuple[str, ...]  # document ids of its live sources (sorted, distinct)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # rule code from rules.toml
    severity: str  # "error" | "warning" | "info"
    indicator: str  # the anchor cell the flag is filed under
    area: str
    period: str  # the latest period the finding involves
    parts: tuple[tuple[int, str], ...]  # (Obs.id, part), sorted
    figures: dict[str, float]
    message_vi: str
    message_en: str

    @property
    def key(self) -> str:
        """The flag's identity across runs: its rule and the observations it joins."""
        text = self.rule + "|" + ";".join(f"{id_}:{part}" for id_, part in self.parts)
        return hashlib.sha256(text.encode()).hexdigest()[:40]


Cell = tuple[str, str, str, str]  # indicator, area, measure, period
Series = tuple[str, str, str, str, str]  # indicator, area, measure, transformation, unit
SeriesPeriod = tuple[Series, str]


@dataclass(slots=True)
class Index:
    """The observations arranged once for every check: lookups instead of scans."""

    # current versions by series and period
    current: dict[Series, dict[str, Obs]] = field(default_factory=dict)
    # the first current level of a cell, any unit, and the cell's further ones (in other
    # units) for the few cells that have more: see `levels_of`
    levels: dict[Cell, Obs] = field(default_factory=dict)
    more_levels: dict[Cell, list[Obs]] = field(default_factory=dict)
    # current levels by indicator
    by_indicator: dict[str, list[Obs]] = field(default_factory=dict)
    # the versions of each (series, period) that has more than one, in the order given
    versions: dict[SeriesPeriod, list[Obs]] = field(default_factory=dict)
    periods: dict[str, Period | None] = field(default_factory=dict)
    # the anchor periods findings are wanted for (None: every period)
    anchors: frozenset[str] | None = None
    # neighbours of a period, worked out once per distinct period text
    _earlier: dict[str, str | None] = field(default_factory=dict)
    _previous: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, observations: Iterable[Obs]) -> Index:
        # The hottest loop of a run (once per observation), so it allocates little: no list
        # for the many values with a single version or cells with a single level (besides
        # their cost, some 100,000 lists kept for a run would bring on full collections of
        # the heap), and a new dict or list only for a key not seen before
        # (`setdefault(key, [])` would build one each time).
        index = cls()
        versions, current = index.versions, index.current
        levels, more_levels, by_indicator = index.levels, index.more_levels, index.by_indicator
        first: dict[SeriesPeriod, Obs] = {}
        for obs in observations:
            series = (obs.indicator, obs.area, obs.measure, obs.transformation, obs.unit)
            period = obs.period
            seen = first.get((series, period))
            if seen is None:
                first[series, period] = obs
            else:
                group = versions.get((series, period))
                if group is None:
                    versions[series, period] = [seen, obs]
                else:
                    group.append(obs)
            if not obs.is_current:
                continue
            by_period = current.get(series)
            if by_period is None:
                current[series] = {period: obs}
            else:
                by_period[period] = obs
            if obs.transformation == "level":
                cell = (obs.indicator, obs.area, obs.measure, period)
                if cell not in levels:
                    levels[cell] = obs
                else:
                    group = more_levels.get(cell)
                    if group is None:
                        more_levels[cell] = [obs]
                    else:
                        group.append(obs)
                group = by_indicator.get(obs.indicator)
                if group is None:
                    by_indicator[obs.indicator] = [obs]
                else:
                    group.append(obs)
        return index

    def anchored(self, period: str) -> bool:
        """Whether findings anchored at this period are wanted."""
        return self.anchors is None or period in self.anchors

    def period(self, text: str) -> Period | None:
        """The parsed period (None when off-grammar), parsed once per run."""
        try:
            return self.periods[text]
        except KeyError:
            parsed = self.periods[text] = Period.try_parse(text)
            return parsed

    def levels_of(self, cell: Cell) -> Sequence[Obs]:
        """The current levels of a cell, any unit, in the order given."""
        first = self.levels.get(cell)
        if first is None:
            return ()
        more = self.more_levels.get(cell)
        return (first,) if more is None else (first, *more)

    def level(self, indicator: str, area: str, measure: str, period: str, unit: str) -> Obs | None:
        """The first current level of a cell in `unit`."""
        cell = (indicator, area, measure, period)
        first = self.levels.get(cell)
        if first is None or first.unit == unit:
            return first
        for obs in self.more_levels.get(cell, ()):
            if obs.unit == unit:
                return obs
        return None

    def year_before(self, text: str) -> str | None:
        """The same period a year earlier (`cùng kỳ`)."""
        if text not in self._earlier:
            self._earlier[text] = self._year_before(text)
        return self._earlier[text]

    def _year_before(self, text: str) -> str | None:
        period = self.period(text)
        if period is None:
            return None
        try:
            return str(period.in_year(period.year - 1))
        except PeriodError:
            return None

    def previous(self, text: str) -> list[str]:
        """What `previous_period` may name (GUIDELINE §5): the period just before, or the
        same period a year earlier; one candidate for a year, two for shorter periods."""
        if text not in self._previous:
            self._previous[text] = self._previous_of(text)
        return self._previous[text]

    def _previous_of(self, text: str) -> list[str]:
        period = self.period(text)
        if period is None:
            return []
        found: list[str] = []
        if not period.is_span:
            with suppress(PeriodError):
                found.append(str(period.previous()))
        earlier = self.year_before(text)
        if earlier is not None and earlier not in found:
            found.append(earlier)
        return found

    def latest(self, texts: Sequence[str]) -> str:
        """The latest of some periods (by end, then the model's order)."""
        best: tuple[Period, str] | None = None
        for text in texts:
            period = self.period(text)
            if period is None:
                continue
            if best is None or (period.end, period) > (best[0].end, best[0]):
                best = (period, text)
        return best[1] if best else max(texts)


class Names:
    """Catalogue names of indicators and the level of areas (country or province)."""

    @cached_property
    def indicators(self) -> dict[str, tuple[str, str]]:
        return {item.code: (item.name_vi, item.name_en) for item in indicators()}

    @cached_property
    def area_levels(self) -> dict[str, str]:
        return {item.code: item.level for item in areas()}

    def name(self, code: str, lang: str) -> str:
        names = self.indicators.get(code)
        return code if names is None else names[0 if lang == "vi" else 1]

    def area_name(self, code: str, lang: str, period: str) -> str:
        """The area's name in the period (Bắc Giang's 24 before the 2025 merger, Bắc Ninh's
        after); a code the catalogue does not know is shown as it is."""
        try:
            day = Period.parse(period).end
        except ValueError:
            day = None
        area = area_on(code, day)
        return code if area is None else area.name_vi if lang == "vi" else area.name_en

    def area_level(self, code: str) -> str:
        return self.area_levels.get(code) or ("country" if code == "VN" else "province")


NAMES = Names()
