"""Reads: observations with their provenance, filtered and paged by keyset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chiso_indicators.db.models import Observation, Provenance, Series, SourceDocument
from chiso_shared.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class ObservationFilter:
    indicators: Sequence[str] = ()
    areas: Sequence[str] = ()
    start_period: str | None = None
    end_period: str | None = None
    frequency: str | None = None
    measure: str | None = None
    transformation: str | None = None
    status: str | None = None
    updated_after: datetime | None = None
    include_history: bool = False
    as_of: datetime | None = None
    last_n: int | None = None
    frequencies: Sequence[str] = ()
    measures: Sequence[str] = ()
    transformations: Sequence[str] = ()
    units: Sequence[str] = ()


_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])

# The same order as importer.STATUS_RANK: actual beats provisional beats estimate beats forecast.
_RANK = case(
    (Observation.status == "A", 4),
    (Observation.status == "P", 3),
    (Observation.status == "E", 2),
    else_=1,
)


def _current_as_of(as_of: datetime) -> Select[Any]:
    """Ids of the versions that were current at `as_of`: the best of those recorded by then."""
    ranked = (
        select(
            Observation.id,
            func.row_number()
            .over(
                partition_by=(Observation.series_id, Observation.period),
                order_by=(_RANK.desc(), Observation.published.desc(), Observation.value.desc()),
            )
            .label("rn"),
        )
        .where(Observation.recorded_at <= as_of)
        .subquery()
    )
    return select(ranked.c.id).where(ranked.c.rn == 1)


def _last_n(f: ObservationFilter, n: int) -> Select[Any]:
    """Ids of the `n` latest periods of each series among the otherwise filtered observations."""
    inner = _filtered(
        select(
            Observation.id,
            func.dense_rank()
            .over(partition_by=Observation.series_id, order_by=Observation.period.desc())
            .label("rn"),
        ).join(Series),
        ObservationFilter(**{**f.__dict__, "last_n": None}),
    ).subquery()
    return select(inner.c.id).where(inner.c.rn <= n)


def _filtered(query: _S, f: ObservationFilter) -> _S:
    if f.last_n is not None:
        return query.where(Observation.id.in_(_last_n(f, f.last_n)))
    if f.indicators:
        query = query.where(Series.indicator_code.in_(f.indicators))
    if f.areas:
        query = query.where(Series.area_code.in_(f.areas))
    if f.start_period:
        query = query.where(Observation.period >= f.start_period)
    if f.end_period:
        # Every period string starts with its year, and "~" sorts after all period characters.
        query = query.where(Observation.period <= f.end_period + "~")
    if f.frequency:
        query = query.where(Series.frequency == f.frequency)
    for column, values in (
        (Series.frequency, f.frequencies),
        (Series.measure, f.measures),
        (Series.transformation, f.transformations),
        (Series.unit, f.units),
    ):
        if values:
            query = query.where(column.in_(values))
    if f.measure:
        query = query.where(Series.measure == f.measure)
    if f.transformation:
        query = query.where(Series.transformation == f.transformation)
    if f.status:
        query = query.where(Observation.status == f.status)
    if f.updated_after:
        query = query.where(Observation.recorded_at > f.updated_after)
    if f.as_of is not None:
        query = query.where(Observation.recorded_at <= f.as_of)
        if not f.include_history:
            query = query.where(Observation.id.in_(_current_as_of(f.as_of)))
    elif not f.include_history:
        query = query.where(Observation.is_current.is_(True))
    return query


async def all_observations(
    session: AsyncSession, f: ObservationFilter, *, cap: int
) -> list[tuple[Observation, Series]]:
    """Every matching observation (without provenance), at most `cap` + 1 to detect overflow."""
    query = _filtered(select(Observation, Series).join(Series), f).order_by(
        Series.indicator_code, Series.area_code, Series.id, Observation.period, Observation.id
    )
    rows = (await session.execute(query.limit(cap + 1))).all()
    return [(observation, series) for observation, series in rows]


# The columns a page is built from: plain rows, not ORM entities (several times cheaper).
_PAGE_COLUMNS = (
    Series.indicator_code,
    Series.area_code,
    Series.id,
    Series.frequency,
    Series.measure,
    Series.transformation,
    Series.unit,
    Observation.id,
    Observation.period,
    Observation.value,
    Observation.of,
    Observation.max,
    Observation.status,
    Observation.published,
    Observation.recorded_at,
    Observation.is_current,
)


async def list_observations(
    session: AsyncSession, f: ObservationFilter, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of observations as `ObservationOut`-shaped dicts (in its field order, so that
    they serialise to the same JSON as the model would), and the cursor of the next page."""
    order = (
        Series.indicator_code,
        Series.area_code,
        Series.id,
        Observation.period,
        Observation.id,
    )
    query = _filtered(select(*_PAGE_COLUMNS).join(Series), f)
    if cursor:
        position = decode_cursor(cursor, size=len(order), code="indicators.bad_cursor")
        query = query.where(tuple_(*order) > tuple_(*position))
    connection = await _reader(session)
    rows = (await connection.execute(query.order_by(*order).limit(limit + 1))).all()
    page = rows[:limit]
    sources = await _sources(session, connection, [row[7] for row in page])
    items = [_to_out(row, sources.get(row[7], [])) for row in page]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last[0], last[1], last[2], last[8], last[7]])
    return items, next_cursor


async def _reader(session: AsyncSession) -> AsyncConnection:
    """The session's connection for a read of Core rows (no ORM result processing), without a
    transaction when none is open yet: each statement reads committed data either way (READ
    COMMITTED), and BEGIN and COMMIT would cost two more round trips per request."""
    if session.in_transaction():
        return await session.connection()
    return await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


async def _sources(
    session: AsyncSession, connection: AsyncConnection, observation_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Provenance of a page in one query; sorted here, as an ORDER BY made PostgreSQL walk the
    whole provenance primary key instead of the observation_id index."""
    if not observation_ids:
        return {}
    query = _sources_query(session.get_bind().dialect.name == "postgresql")
    rows = (await connection.execute(query, {"ids": observation_ids})).all()
    found: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda row: row[1]):  # each observation's in provenance order
        found.setdefault(row[0], []).append(
            {
                "document_id": row[2],
                "document_name": row[3],
                "published": row[4],
                "start": row[5],
                "end": row[6],
                "text": row[7],
                "label": row[8],
                "extractor_version": row[9],
            }
        )
    return found


@cache
def _sources_query(postgresql: bool) -> Select[*tuple[Any, ...]]:
    """The provenance of the observations in `:ids`, built once: the same statement object
    each time skips SQLAlchemy's per-statement cache-key and result-map work. On PostgreSQL
    the ids are one array parameter, so the statement text (and its prepared plan) is the
    same for every page size."""
    ids = (
        any_(bindparam("ids", type_=ARRAY(Integer)))
        if postgresql
        else bindparam("ids", expanding=True)
    )
    where = Provenance.observation_id == ids if postgresql else Provenance.observation_id.in_(ids)
    query: Select[*tuple[Any, ...]] = (
        select(
            Provenance.observation_id,
            Provenance.id,
            Provenance.document_id,
            SourceDocument.name,
            SourceDocument.published,
            Provenance.start,
            Provenance.end,
            Provenance.text,
            Provenance.label,
            Provenance.extractor_version,
        )
        .join(SourceDocument, SourceDocument.id == Provenance.document_id)
        .where(where)
    )
    return query


def _to_out(row: Any, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """One page row (`_PAGE_COLUMNS`) with its sources, as `ObservationOut` fields."""
    return {
        "indicator": row[0],
        "area": row[1],
        "frequency": row[3],
        "measure": row[4],
        "transformation": row[5],
        "unit": row[6],
        "period": row[8],
        "value": float(row[9]),
        "of": None if row[10] is None else float(row[10]),
        "max": None if row[11] is None else float(row[11]),
        "status": row[12],
        "published": row[13],
        "recorded_at": row[14],
        "is_current": row[15],
        "sources": sources,
    }
