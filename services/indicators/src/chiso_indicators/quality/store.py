"""Flags in the database: recomputed inside every import, around the values it touched.

A finding compares an anchor period with at most the period before it and the same period a
year earlier, among indicators the rule book relates. So an import that touches the values of
some (indicator, area, period) cells can change only the findings anchored at those periods,
the period after and the same period a year on, in the related cells; those are computed again
from the versions of their windows, and the stored flags there are brought in line: a finding
raised again keeps its row (and any resolution), a new one is inserted, an open flag no longer
raised is deleted. A resolved flag no longer raised is kept, as the record of what a person
decided.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from chiso_indicators.db.models import (
    Observation,
    Provenance,
    QualityFlag,
    QualityFlagObservation,
    Series,
    Withdrawal,
)
from chiso_indicators.quality.engine import Finding, Obs, check, related_indicators
from chiso_indicators.quality.rules import RuleBook
from chiso_shared.db import utcnow
from chiso_shared.periods import Period, PeriodError

T = TypeVar("T")
# Values per statement: under the bound-parameter limits of SQLite and asyncpg.
CHUNK = 10_000

Cell = tuple[str, str]  # (indicator, area)


@dataclass(frozen=True, slots=True)
class KnownValues:
    """Versions the caller already holds (an import's touched pairs, as they now stand), and
    the periods they cover by series id: those are not read again."""

    observations: Sequence[Obs] = ()
    held: Mapping[int, Collection[str]] = field(default_factory=dict)
    # series the caller created: every version of theirs is among `observations`
    complete: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Recomputed:
    """What a recompute changed: flags raised, kept, and cleared (open flags no longer raised)."""

    raised: int
    kept: int
    cleared: int


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the checks' objects live.

    The checks build a version object per value an import touched, and an index of them
    (hundreds of thousands of small, acyclic objects that reference counting frees). With
    the collector running, each burst set off full collections that walked the import's
    whole heap, its parsed batch included, and the survivors were promoted to the oldest
    generation, setting off another. Paused until they are freed, it sees none of them.
    Over the checks' database reads other requests run meanwhile with the collector paused
    too, for those few hundred milliseconds: their cyclic garbage waits a little, nothing
    else changes. It resumes (without collecting) when the step ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def scope(
    book: RuleBook, touched: Iterable[tuple[str, str, str]]
) -> tuple[set[Cell], set[str], set[str]]:
    """For touched (indicator, area, period) values: the cells whose findings may change, the
    touched periods, and the later periods whose findings may compare them (anchors too,
    where a value of theirs is stored)."""
    by_area: dict[str, set[str]] = {}
    periods: set[str] = set()
    for indicator, area, period in touched:
        by_area.setdefault(area, set()).add(indicator)
        periods.add(period)
    cells = {
        (indicator, area)
        for area, indicators in by_area.items()
        for indicator in related_indicators(book, indicators)
    }
    later = {after for period in periods for after in _later(period)} - periods
    return cells, periods, later


def window_of(anchors: Iterable[str]) -> set[str]:
    """The periods whose versions the findings anchored at these periods compare."""
    return {before for anchor in anchors for before in _earlier(anchor)}


def _later(text: str) -> set[str]:
    """The period itself and those whose findings may compare it: the next one, a year on,
    and, for a year, the parts of it a statement against the year's plan may be made for."""
    return {text, *_neighbours(text, 1), *_parts_of_year(text)}


def _earlier(text: str) -> set[str]:
    """The period itself and those a finding anchored at it may compare: the previous one,
    the same period a year earlier, and the year that holds it (its plan)."""
    return {text, *_neighbours(text, -1), *_year_of(text)}


def _year_of(text: str) -> set[str]:
    period = Period.try_parse(text)
    if period is None or period.frequency == "A" or period.start.year != period.end.year:
        return set()
    return {str(Period.annual(period.year))}


def _parts_of_year(text: str) -> set[str]:
    """The halves, quarters, months and year-to-date spans of a year (a statement of one of
    them may be set against the year's target)."""
    period = Period.try_parse(text)
    if period is None or period.frequency != "A" or period.is_span:
        return set()
    year = period.year
    parts = [Period.half(year, half) for half in (1, 2)]
    parts += [Period.quarter(year, quarter) for quarter in range(1, 5)]
    parts += [Period.month(year, month) for month in range(1, 13)]
    parts += [Period.months(year, 1, last) for last in range(2, 13)]
    return {str(part) for part in parts}


def _neighbours(text: str, step: int) -> set[str]:
    period = Period.try_parse(text)
    if period is None:
        return set()
    found: set[str] = set()
    with suppress(PeriodError):  # 29 February, or a year outside the grammar
        found.add(str(period.in_year(period.year + step)))
    if not period.is_span and period.frequency != "A":
        with suppress(PeriodError):
            found.add(str(period.next() if step > 0 else period.previous()))
    return found


async def recompute(
    session: AsyncSession,
    book: RuleBook,
    touched: Iterable[tuple[str, str, str]],
    known: KnownValues | None = None,
) -> Recomputed:
    """Bring the stored flags in line with the findings around the touched values."""
    cells, periods, later = scope(book, touched)
    if not cells:
        return Recomputed(0, 0, 0)
    known = known or KnownValues()
    series = await _series(session, cells)
    stored_series = {id_: key for id_, key in series.items() if id_ not in known.complete}
    # a later period is an anchor only where a value of it is stored: a finding anchored
    # there involves one (when reports arrive in order, the next period has none yet)
    anchors = periods | await _present(session, stored_series, later)
    window = window_of(anchors)
    read = await _window(session, stored_series, window, anchors, known.held)
    observations = [*known.observations, *read]
    with collector_paused():
        found = check(observations, book, anchors)
    findings = {
        finding.key: finding
        for finding in found
        if (finding.indicator, finding.area) in cells and finding.period in anchors
    }
    stored = await _stored_flags(session, cells, anchors)
    return await _reconcile(session, findings, stored)


async def _present(
    session: AsyncSession, series: dict[int, tuple[str, ...]], periods: set[str]
) -> set[str]:
    """Which of the periods have a value stored in one of the series."""
    if not periods or not series:
        return set()
    postgresql = session.get_bind().dialect.name == "postgresql"
    found: set[str] = set()
    for low, high in year_ranges(periods):
        for chunk in _chunks(sorted(series)):
            params = {"ids": list(chunk), "low": low, "high": high}
            stored = (await session.scalars(_present_query(postgresql), params)).all()
            found.update(period for period in stored if period in periods)
    return found


async def _window(
    session: AsyncSession,
    stored: dict[int, tuple[str, ...]],
    periods: set[str],
    anchors: set[str],
    held: Mapping[int, Collection[str]],
) -> list[Obs]:
    """The versions with a live source of the given series in the given periods (only
    levels outside the anchor periods: an earlier period is compared by its levels alone),
    but for the periods `held` names for a series (the caller holds them already)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows: list[Any] = []
    for ids, wanted in _groups(stored, periods, anchors, held):
        rows.extend(await _versions_in(session, ids, set(wanted), postgresql))
    # how many versions each pair has: only those of pairs with several need documents
    versions = Counter((row[1], row[2]) for row in rows)
    rows = [row for row in rows if row[2] not in held.get(row[1], ())]
    # a version whose sources were all withdrawn has an open withdrawal (a filter on the
    # provenance itself made PostgreSQL scan it whole, its statistics stale mid-import)
    gone: set[int] = set()
    for chunk in _chunks([row[0] for row in rows]):
        gone.update((await session.scalars(_withdrawn_query(postgresql), {"ids": chunk})).all())
    if gone:
        rows = [row for row in rows if row[0] not in gone]
    documents = await _documents(session, [row[0] for row in rows if versions[row[1], row[2]] > 1])
    found: list[Obs] = []
    for id_, series_id, period, value, status, current in rows:
        indicator, area, frequency, measure, transformation, unit = stored[series_id]
        found.append(
            Obs(
                id_,
                indicator,
                area,
                frequency,
                measure,
                transformation,
                unit,
                period,
                value,
                status,
                bool(current),
                documents.get(id_, ()),
            )
        )
    return found


async def _versions_in(
    session: AsyncSession, ids: list[int], periods: set[str], postgresql: bool
) -> list[Any]:
    """Every version of the series in the periods.

    Read by ranges of years and filtered here: a series id and a period both matched against
    lists made PostgreSQL (15) probe its (series, period) index once for every pair of them,
    thousands of series times a dozen periods, where a range is one descent per series."""
    rows: list[Any] = []
    for low, high in year_ranges(periods):
        for chunk in _chunks(ids):
            params = {"ids": list(chunk), "low": low, "high": high}
            found = (await session.execute(_window_query(postgresql), params)).all()
            rows.extend(row for row in found if row[2] in periods)
    return rows


def year_ranges(periods: Iterable[str]) -> list[tuple[str, str]]:
    """The periods as (lowest, highest) ranges of text, one per run of consecutive years.

    Every period's text starts with its year, so the periods of one year sort together and a
    range from a run's first period to its last holds those of the years between, and no
    other year's. (A text that does not start with a year is a range of its own.)"""
    by_year: dict[str, list[str]] = {}
    for period in periods:
        by_year.setdefault(period[:4], []).append(period)
    ranges: list[tuple[str, str]] = []
    last: int | None = None
    for prefix in sorted(by_year):
        low, high = min(by_year[prefix]), max(by_year[prefix])
        year = int(prefix) if len(prefix) == 4 and prefix.isdigit() else None
        if year is not None and last is not None and year == last + 1:
            ranges[-1] = (ranges[-1][0], high)
        else:
            ranges.append((low, high))
        last = year
    return ranges


def _in(column: Any, name: str, postgresql: bool) -> Any:
    """`column` among the values of the parameter `name`: one array on PostgreSQL (the same
    statement text, and a small one, whatever the number of values), an expanding IN
    elsewhere."""
    if postgresql:
        array = ARRAY(Integer) if name == "ids" else ARRAY(String)
        return column == any_(bindparam(name, type_=array))
    return column.in_(bindparam(name, expanding=True))


@cache
def _window_query(postgresql: bool) -> Select[*tuple[Any, ...]]:
    return select(
        Observation.id,
        Observation.series_id,
        Observation.period,
        Observation.value,
        Observation.status,
        Observation.is_current,
    ).where(
        _in(Observation.series_id, "ids", postgresql),
        Observation.period.between(bindparam("low"), bindparam("high")),
    )


@cache
def _present_query(postgresql: bool) -> Select[*tuple[Any, ...]]:
    return (
        select(Observation.period)
        .where(
            _in(Observation.series_id, "ids", postgresql),
            Observation.period.between(bindparam("low"), bindparam("high")),
        )
        .distinct()
    )


@cache
def _withdrawn_query(postgresql: bool) -> Select[*tuple[Any, ...]]:
    return select(Withdrawal.observation_id).where(
        Withdrawal.restored_at.is_(None), _in(Withdrawal.observation_id, "ids", postgresql)
    )


# More distinct sets of periods to read than this, and one read of them all is cheaper.
MAX_GROUPS = 16


def _groups(
    series: dict[int, tuple[str, ...]],
    periods: set[str],
    anchors: set[str],
    held: Mapping[int, Collection[str]],
) -> list[tuple[list[int], list[str]]]:
    """The series to read, grouped by the periods each still needs (the window less the
    periods the caller holds; a series of changes or ratios only its anchor periods), so
    that what an import just wrote is not read back."""
    groups: dict[frozenset[str], list[int]] = {}
    for series_id in sorted(series):
        wanted = periods if series[series_id][4] == "level" else anchors
        needed = frozenset(wanted.difference(held.get(series_id, ())))
        if needed:
            groups.setdefault(needed, []).append(series_id)
    if len(groups) > MAX_GROUPS:
        return [(sorted(series), sorted(periods))]
    return [(ids, sorted(needed)) for needed, ids in groups.items()]


async def _documents(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The documents of the given versions' live sources."""
    documents: dict[int, set[str]] = {}
    for chunk in _chunks(sorted(ids)):
        query = select(Provenance.observation_id, Provenance.document_id).where(
            Provenance.observation_id.in_(chunk)
        )
        for id_, document in (await session.execute(query)).all():
            documents.setdefault(id_, set()).add(document)
    return {id_: tuple(sorted(found)) for id_, found in documents.items()}


async def _series(session: AsyncSession, cells: set[Cell]) -> dict[int, tuple[str, ...]]:
    """The series of the cells: id -> (indicator, area, frequency, measure, transformation,
    unit)."""
    found: dict[int, tuple[str, ...]] = {}
    areas = sorted({area for _, area in cells})
    for codes in _chunks(sorted({indicator for indicator, _ in cells})):
        query = select(
            Series.id,
            Series.indicator_code,
            Series.area_code,
            Series.frequency,
            Series.measure,
            Series.transformation,
            Series.unit,
        ).where(Series.indicator_code.in_(codes), Series.area_code.in_(areas))
        for row in (await session.execute(query)).all():
            if (row[1], row[2]) in cells:
                found[row[0]] = tuple(row[1:])
    return found


@dataclass(slots=True)
class _Stored:
    id: int
    key: str
    resolved: bool
    severity: str
    figures: dict[str, float]
    message_vi: str
    message_en: str


async def _stored_flags(
    session: AsyncSession, cells: set[Cell], anchors: set[str]
) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    areas = sorted({area for _, area in cells})
    periods = sorted(anchors)
    for codes in _chunks(sorted({indicator for indicator, _ in cells})):
        query = select(
            QualityFlag.id,
            QualityFlag.key,
            QualityFlag.resolution,
            QualityFlag.severity,
            QualityFlag.figures,
            QualityFlag.message_vi,
            QualityFlag.message_en,
            QualityFlag.indicator_code,
            QualityFlag.area_code,
        ).where(
            QualityFlag.indicator_code.in_(codes),
            QualityFlag.area_code.in_(areas),
            QualityFlag.period.in_(periods),
        )
        for row in (await session.execute(query)).all():
            if (row.indicator_code, row.area_code) in cells:
                found[row.key] = _Stored(
                    row.id,
                    row.key,
                    row.resolution is not None,
                    row.severity,
                    row.figures,
                    row.message_vi,
                    row.message_en,
                )
    return found


async def _reconcile(
    session: AsyncSession, findings: dict[str, Finding], stored: dict[str, _Stored]
) -> Recomputed:
    now = utcnow()
    gone = [flag.id for key, flag in stored.items() if key not in findings and not flag.resolved]
    await _delete(session, gone)
    fresh = [finding for key, finding in findings.items() if key not in stored]
    await _insert(session, fresh, now)
    kept = [(stored[key], finding) for key, finding in findings.items() if key in stored]
    await _refresh(session, kept, now)
    return Recomputed(raised=len(fresh), kept=len(kept), cleared=len(gone))


async def _delete(session: AsyncSession, ids: Sequence[int]) -> None:
    links = cast(Table, QualityFlagObservation.__table__)
    flags = cast(Table, QualityFlag.__table__)
    for chunk in _chunks(sorted(ids)):
        await session.execute(delete(links).where(links.c.flag_id.in_(chunk)))
        await session.execute(delete(flags).where(flags.c.id.in_(chunk)))


async def _insert(session: AsyncSession, findings: Sequence[Finding], now: object) -> None:
    if not findings:
        return
    flags = cast(Table, QualityFlag.__table__)
    links = cast(Table, QualityFlagObservation.__table__)
    rows = [
        {
            "key": finding.key,
            "rule": finding.rule,
            "severity": finding.severity,
            "indicator_code": finding.indicator,
            "area_code": finding.area,
            "period": finding.period,
            "figures": finding.figures,
            "message_vi": finding.message_vi,
            "message_en": finding.message_en,
            "raised_at": now,
            "updated_at": now,
        }
        for finding in findings
    ]
    returning = insert(flags).returning(flags.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for chunk in _chunks(rows, 1000):
        ids.extend((await session.scalars(returning, list(chunk))).all())
    parts = [
        {"flag_id": id_, "observation_id": observation, "part": part}
        for id_, finding in zip(ids, findings, strict=True)
        for observation, part in dict.fromkeys(finding.parts)
    ]
    for chunk in _chunks(parts, 3000):
        await session.execute(insert(links), list(chunk))


async def _refresh(
    session: AsyncSession, kept: Sequence[tuple[_Stored, Finding]], now: object
) -> None:
    """A finding raised again with other figures or words (its rule's text changed, say)."""
    flags = cast(Table, QualityFlag.__table__)
    for flag, finding in kept:
        if (flag.severity, flag.figures, flag.message_vi, flag.message_en) == (
            finding.severity,
            finding.figures,
            finding.message_vi,
            finding.message_en,
        ):
            continue
        await session.execute(
            update(flags)
            .where(flags.c.id == flag.id)
            .values(
                severity=finding.severity,
                figures=finding.figures,
                message_vi=finding.message_vi,
                message_en=finding.message_en,
                updated_at=now,
            )
        )


def touched_values(
    facts: Iterable[tuple[str | None, str | None, str]],
) -> set[tuple[str, str, str]]:
    """The (indicator, area, period) values of facts that belong to a series."""
    return {
        (indicator, area, period)
        for indicator, area, period in facts
        if indicator and area not in (None, "sub")
    }
