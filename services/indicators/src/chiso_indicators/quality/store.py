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

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
    the (series id, period) pairs they cover: those pairs are not read again."""

    observations: Sequence[Obs] = ()
    pairs: frozenset[tuple[int, str]] | set[tuple[int, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Recomputed:
    """What a recompute changed: flags raised, kept, and cleared (open flags no longer raised)."""

    raised: int
    kept: int
    cleared: int


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def scope(
    book: RuleBook, touched: Iterable[tuple[str, str, str]]
) -> tuple[set[Cell], set[str], set[str]]:
    """For touched (indicator, area, period) values: the cells whose findings may change, the
    anchor periods to recompute, and the periods whose versions those findings compare."""
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
    anchors = {after for period in periods for after in _later(period)}
    window = {before for anchor in anchors for before in _earlier(anchor)}
    return cells, anchors, window


def _later(text: str) -> set[str]:
    """The period itself and those whose findings may compare it: the next one, a year on."""
    return {text, *_neighbours(text, 1)}


def _earlier(text: str) -> set[str]:
    """The period itself and those a finding anchored at it may compare: the previous one and
    the same period a year earlier."""
    return {text, *_neighbours(text, -1)}


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
    cells, anchors, window = scope(book, touched)
    if not cells:
        return Recomputed(0, 0, 0)
    known = known or KnownValues()
    observations = [*known.observations, *await _window(session, cells, window, known.pairs)]
    findings = {
        finding.key: finding
        for finding in check(observations, book)
        if (finding.indicator, finding.area) in cells and finding.period in anchors
    }
    stored = await _stored_flags(session, cells, anchors)
    return await _reconcile(session, findings, stored)


async def _window(
    session: AsyncSession,
    cells: set[Cell],
    periods: set[str],
    skip: Collection[tuple[int, str]] = frozenset(),
) -> list[Obs]:
    """The versions with a live source of the cells' series in the given periods, but for
    the (series, period) pairs in `skip` (the caller holds them already)."""
    series = await _series(session, cells)
    rows: list[tuple[int, int, str, float, str, bool]] = []
    for ids, wanted in _groups(series, periods, skip):
        for chunk in _chunks(ids):
            query = select(
                Observation.id,
                Observation.series_id,
                Observation.period,
                Observation.value,
                Observation.status,
                Observation.is_current,
            ).where(
                Observation.series_id.in_(chunk),
                Observation.period.in_(wanted),
            )
            found = (await session.execute(query)).all()
            rows.extend(row for row in found if (row[1], row[2]) not in skip)
    # a version whose sources were all withdrawn has an open withdrawal (a filter on the
    # provenance itself made PostgreSQL scan it whole, its statistics stale mid-import)
    gone = await _withdrawn(session, [row[0] for row in rows])
    rows = [row for row in rows if row[0] not in gone]
    documents = await _documents(session, rows)
    return [
        Obs(
            id=id_,
            indicator=series[series_id][0],
            area=series[series_id][1],
            frequency=series[series_id][2],
            measure=series[series_id][3],
            transformation=series[series_id][4],
            unit=series[series_id][5],
            period=period,
            value=value,
            status=status,
            is_current=bool(current),
            documents=documents.get(id_, ()),
        )
        for id_, series_id, period, value, status, current in rows
    ]


# More distinct sets of periods to read than this, and one read of them all is cheaper.
MAX_GROUPS = 16


def _groups(
    series: dict[int, tuple[str, ...]], periods: set[str], skip: Collection[tuple[int, str]]
) -> list[tuple[list[int], list[str]]]:
    """The series to read, grouped by the periods each still needs (the window less the
    periods the caller holds), so that what an import just wrote is not read back."""
    held: dict[int, set[str]] = {}
    for series_id, period in skip:
        held.setdefault(series_id, set()).add(period)
    groups: dict[frozenset[str], list[int]] = {}
    for series_id in sorted(series):
        needed = frozenset(periods - held.get(series_id, set()))
        if needed:
            groups.setdefault(needed, []).append(series_id)
    if len(groups) > MAX_GROUPS:
        return [(sorted(series), sorted(periods))]
    return [(ids, sorted(needed)) for needed, ids in groups.items()]


async def _withdrawn(session: AsyncSession, ids: list[int]) -> set[int]:
    """The versions among `ids` left without a source."""
    found: set[int] = set()
    for chunk in _chunks(sorted(ids)):
        query = select(Withdrawal.observation_id).where(
            Withdrawal.observation_id.in_(chunk), Withdrawal.restored_at.is_(None)
        )
        found.update((await session.scalars(query)).all())
    return found


async def _documents(
    session: AsyncSession, rows: Sequence[tuple[int, int, str, float, str, bool]]
) -> dict[int, tuple[str, ...]]:
    """The documents of the versions that share their (series, period) with another: only
    the checks of disagreeing versions look at where a value came from."""
    by_pair: dict[tuple[int, str], list[int]] = {}
    for id_, series_id, period, *_rest in rows:
        by_pair.setdefault((series_id, period), []).append(id_)
    ids = sorted(id_ for found in by_pair.values() if len(found) > 1 for id_ in found)
    documents: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
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
        for id_, *key in (await session.execute(query)).all():
            if (key[0], key[1]) in cells:
                found[id_] = tuple(key)
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
