"""Reads: observations with their provenance, filtered and paged by keyset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Integer, Select, any_, case, cast, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.db.models import Observation, Provenance, Series, SourceDocument
from chiso_indicators.observations.schemas import ObservationOut, SourceOut
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


async def list_observations(
    session: AsyncSession, f: ObservationFilter, *, limit: int, cursor: str | None
) -> tuple[list[ObservationOut], str | None]:
    order = (
        Series.indicator_code,
        Series.area_code,
        Series.id,
        Observation.period,
        Observation.id,
    )
    query = _filtered(select(Observation, Series).join(Series), f)
    if cursor:
        position = decode_cursor(cursor, size=len(order), code="indicators.bad_cursor")
        query = query.where(tuple_(*order) > tuple_(*position))
    rows = (await session.execute(query.order_by(*order).limit(limit + 1))).all()
    sources = await _sources(session, [observation.id for observation, _ in rows[:limit]])
    items = [_to_out(obs, series, sources.get(obs.id, [])) for obs, series in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        observation, series = rows[limit - 1]
        next_cursor = encode_cursor(
            [series.indicator_code, series.area_code, series.id, observation.period, observation.id]
        )
    return items, next_cursor


async def _sources(session: AsyncSession, observation_ids: list[int]) -> dict[int, list[SourceOut]]:
    """Provenance of a page in one query; sorted here, as an ORDER BY made PostgreSQL walk the
    whole provenance primary key instead of the observation_id index."""
    if not observation_ids:
        return {}
    query = (
        select(Provenance, SourceDocument)
        .join(SourceDocument, SourceDocument.id == Provenance.document_id)
        .where(_among(session, Provenance.observation_id, observation_ids))
    )
    found: dict[int, list[tuple[int, SourceOut]]] = {}
    for source, document in (await session.execute(query)).all():
        found.setdefault(source.observation_id, []).append(
            (
                source.id,
                SourceOut(
                    document_id=source.document_id,
                    document_name=document.name,
                    published=document.published,
                    start=source.start,
                    end=source.end,
                    text=source.text,
                    label=source.label,
                    extractor_version=source.extractor_version,
                ),
            )
        )
    return {
        key: [out for _, out in sorted(values, key=lambda pair: pair[0])]
        for key, values in found.items()
    }


def _among(session: AsyncSession, column: Any, ids: list[int]) -> Any:
    """`column IN ids`; on PostgreSQL one array parameter, so the statement text (and its
    prepared plan) is the same for every page size."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(ids, ARRAY(Integer)))
    return column.in_(ids)


def _to_out(observation: Observation, series: Series, sources: list[SourceOut]) -> ObservationOut:
    return ObservationOut(
        indicator=series.indicator_code,
        area=series.area_code,
        frequency=series.frequency,
        measure=series.measure,
        transformation=series.transformation,
        unit=series.unit,
        period=observation.period,
        value=observation.value,
        of=observation.of,
        max=observation.max,
        status=observation.status,
        published=observation.published,
        recorded_at=observation.recorded_at,
        is_current=observation.is_current,
        sources=sources,
    )
