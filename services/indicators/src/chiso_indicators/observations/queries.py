"""Reads: observations with their provenance, filtered and paged by keyset."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from chiso_indicators.db.models import (
    Observation,
    Provenance,
    QualityFlagObservation,
    Series,
    SourceDocument,
    Withdrawal,
)
from chiso_indicators.observations.periods import Rank, deciding_rule, rank
from chiso_indicators.quality.notes import note_rows
from chiso_shared.pagination import decode_cursor, encode_cursor
from chiso_shared.series import status_word


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


def _withdrawn_as_of() -> Select[Any]:
    """Ids of the versions that had no source left at `:as_of`."""
    return select(Withdrawal.observation_id).where(
        Withdrawal.withdrawn_at <= bindparam("as_of"),
        or_(Withdrawal.restored_at.is_(None), Withdrawal.restored_at > bindparam("as_of")),
    )


def _reviewed_as_of() -> Any:
    """1 for a version that had a source a person reviewed by `:as_of`, else 0 (a reviewed
    version is current over every other, `importer._rank`)."""
    reviewed = (
        select(Provenance.id)
        .where(
            Provenance.observation_id == Observation.id,
            Provenance.reviewed_at <= bindparam("as_of"),
        )
        .exists()
    )
    return case((reviewed, 1), else_=0)


def _current_as_of() -> Select[Any]:
    """Ids of the versions that were current at `:as_of`: the best of those recorded by then
    and not withdrawn then."""
    ranked = (
        select(
            Observation.id,
            func.row_number()
            .over(
                partition_by=(Observation.series_id, Observation.period),
                order_by=(
                    _reviewed_as_of().desc(),
                    _RANK.desc(),
                    Observation.published.desc(),
                    Observation.value.desc(),
                    # full ties as the importer settles them (`periods.rank`)
                    Observation.fingerprint.desc(),
                ),
            )
            .label("rn"),
        )
        .where(
            Observation.recorded_at <= bindparam("as_of"),
            Observation.id.not_in(_withdrawn_as_of()),
        )
        .subquery()
    )
    return select(ranked.c.id).where(ranked.c.rn == 1)


def _last_n(f: ObservationFilter) -> Select[Any]:
    """Ids of the `:last_n` latest periods of each series among the otherwise filtered ones."""
    inner = _filtered(
        select(
            Observation.id,
            func.dense_rank()
            .over(partition_by=Observation.series_id, order_by=Observation.period.desc())
            .label("rn"),
        ).join(Series),
        ObservationFilter(**{**f.__dict__, "last_n": None}),
    ).subquery()
    return select(inner.c.id).where(inner.c.rn <= bindparam("last_n"))


# Each filter: its bind name, and how it narrows a statement given that bind.
_IN = {
    "indicators": Series.indicator_code,
    "areas": Series.area_code,
    "frequencies": Series.frequency,
    "measures": Series.measure,
    "transformations": Series.transformation,
    "units": Series.unit,
}
_EQUAL = {
    "frequency": Series.frequency,
    "measure": Series.measure,
    "transformation": Series.transformation,
    "status": Observation.status,
}


_SCALARS = ("start_period", "end_period", "updated_after")
_OPTIONAL = ("as_of", "last_n")


def _present(f: ObservationFilter) -> set[str]:
    """The bind names of the filters `f` sets: the shape of its statement."""
    names = {name for name in (*_IN, *_EQUAL, *_SCALARS) if getattr(f, name)}
    return names | {name for name in _OPTIONAL if getattr(f, name) is not None}


def filter_values(f: ObservationFilter) -> dict[str, Any]:
    """The values of a filter by bind name (see `_filtered`), so one built statement serves
    every request of the same shape."""
    values: dict[str, Any] = {}
    for name in _present(f):
        value = getattr(f, name)
        values[name] = list(value) if name in _IN else value
    if "end_period" in values:
        # Every period string starts with its year, and "~" sorts after all period characters.
        values["end_period"] += "~"
    return values


async def series_summaries(
    session: AsyncSession, f: ObservationFilter
) -> list[tuple[Series, int, str, str]]:
    """Each series with matching observations: how many, its first and its last period (as
    text: the periods of one series share a frequency, so text order is time order)."""
    query = _filtered(
        select(
            Series,
            func.count(Observation.id),
            func.min(Observation.period),
            func.max(Observation.period),
        )
        .select_from(Observation)
        .join(Series),
        f,
    ).group_by(Series.id)
    rows = (await session.execute(query, filter_values(f))).all()
    return [(series, count, first, last) for series, count, first, last in rows]


def _filtered(query: _S, f: ObservationFilter) -> _S:
    """`query` narrowed by the filter, every value a named bind (`filter_values`)."""
    if f.last_n is not None:
        return query.where(Observation.id.in_(_last_n(f)))
    present = _present(f)
    for name, column in _IN.items():
        if name in present:
            query = query.where(column.in_(bindparam(name, expanding=True)))
    for name, column in _EQUAL.items():
        if name in present:
            query = query.where(column == bindparam(name))
    if "start_period" in present:
        query = query.where(Observation.period >= bindparam("start_period"))
    if "end_period" in present:
        query = query.where(Observation.period <= bindparam("end_period"))
    if "updated_after" in present:
        query = query.where(Observation.recorded_at > bindparam("updated_after"))
    if f.as_of is not None:
        query = query.where(Observation.recorded_at <= bindparam("as_of"))
        if f.include_history:
            query = query.where(Observation.id.not_in(_withdrawn_as_of()))
        else:
            # The current versions are chosen among those not withdrawn then already.
            query = query.where(Observation.id.in_(_current_as_of()))
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
    rows = (await session.execute(query.limit(cap + 1), filter_values(f))).all()
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
    Observation.chosen_by,
    # whether any flag involves the version: the notes are fetched only for a page that has
    # some, so a read of unflagged data costs no more statements than before
    select(QualityFlagObservation.observation_id)
    .where(QualityFlagObservation.observation_id == Observation.id)
    .exists()
    .label("flagged"),
)


_ORDER = (
    Series.indicator_code,
    Series.area_code,
    Series.id,
    Observation.period,
    Observation.id,
)
# What a cursor holds at each place of `_ORDER`.
_ORDER_KINDS: tuple[type[int] | type[str], ...] = (str, str, int, str, int)


@cache
def _page_statement(f: ObservationFilter, after_cursor: bool) -> Select[*tuple[Any, ...]]:
    """The page statement of a filter's shape, built once: `f` holds only which filters are
    present (`_shape`), the values come as binds at execution."""
    query = _filtered(select(*_PAGE_COLUMNS).join(Series), f)
    if after_cursor:
        position: list[Any] = [bindparam(f"after_{index}") for index in range(len(_ORDER))]
        query = query.where(tuple_(*_ORDER) > tuple_(*position))
    return query.order_by(*_ORDER).limit(bindparam("page_limit"))


def _shape(f: ObservationFilter) -> ObservationFilter:
    """A filter with the same filters present and placeholder values: the cache key of
    `_page_statement` (the statement depends on which filters there are, not their values)."""
    placeholders: dict[str, Any] = {}
    for name, value in f.__dict__.items():
        if isinstance(value, bool) or value is None:
            placeholders[name] = value
        elif isinstance(value, (list, tuple)):
            placeholders[name] = ("",) if value else ()
        else:
            placeholders[name] = 1 if value else None
    return ObservationFilter(**placeholders)


async def list_observations(
    session: AsyncSession, f: ObservationFilter, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of observations as `ObservationOut`-shaped dicts (in its field order, so that
    they serialise to the same JSON as the model would), and the cursor of the next page."""
    values = filter_values(f) | {"page_limit": limit + 1}
    if cursor:
        position = decode_cursor(cursor, kinds=_ORDER_KINDS, code="indicators.bad_cursor")
        values |= {f"after_{index}": value for index, value in enumerate(position)}
    query = _page_statement(_shape(f), bool(cursor))
    connection = await _reader(session)
    rows = (await connection.execute(query, values)).all()
    page = rows[:limit]
    ids = [row[7] for row in page]
    postgresql = session.get_bind().dialect.name == "postgresql"
    sources = await _sources(session, connection, ids)
    flagged = [row[7] for row in page if row[17]]
    notes = await note_rows(connection, flagged, postgresql=postgresql) if flagged else {}
    choices = await _chosen_as_of(connection, page, f.as_of) if f.as_of is not None else None
    items = [_to_out(row, sources.get(row[7], []), notes.get(row[7], []), choices) for row in page]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last[0], last[1], last[2], last[8], last[7]])
    return items, next_cursor


async def count_observations(session: AsyncSession, f: ObservationFilter) -> int:
    """How many observations the filter selects, over every page (one COUNT)."""
    query = _count_statement(_shape(f))
    connection = await _reader(session)
    return int((await connection.execute(query, filter_values(f))).scalar_one())


@cache
def _count_statement(f: ObservationFilter) -> Select[Any]:
    """The count statement of a filter's shape, built once (as `_page_statement`)."""
    return _filtered(select(func.count(Observation.id)).join(Series), f)


async def observation_chunks(
    sessionmaker: async_sessionmaker[AsyncSession], f: ObservationFilter, *, chunk: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every observation the filter selects, as pages of `chunk` rows read one after the other
    by keyset (`list_observations`), in a session of its own: a bulk export streams them while
    the request's session is already closed, and never holds more than one page."""
    async with sessionmaker() as session:
        cursor: str | None = None
        while True:
            items, cursor = await list_observations(session, f, limit=chunk, cursor=cursor)
            if items:
                yield items
            if cursor is None:
                return


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
                "doubts": row[10].split(),
                "confidence": row[11],
                "reviewed_by": row[12],
                "reviewed_at": row[13],
                "review_action": row[14],
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
            Provenance.doubts,
            Provenance.confidence,
            Provenance.reviewed_by,
            Provenance.reviewed_at,
            Provenance.review_action,
        )
        .join(SourceDocument, SourceDocument.id == Provenance.document_id)
        .where(where)
    )
    return query


def _to_out(
    row: Any,
    sources: list[dict[str, Any]],
    quality: list[dict[str, Any]],
    choices: dict[int, str] | None,
) -> dict[str, Any]:
    """One page row (`_PAGE_COLUMNS`) with its sources and flags, as `ObservationOut` fields;
    `choices` (an `as_of` read): the versions current then, and the rule that chose each."""
    if choices is None:
        is_current, chosen_by = row[15], row[16]
    else:
        chosen_by = choices.get(row[7])
        is_current = chosen_by is not None
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
        "status": status_word(row[12]),
        "published": row[13],
        "recorded_at": row[14],
        "is_current": is_current,
        "chosen_by": chosen_by,
        "sources": sources,
        "quality": quality,
    }


async def _chosen_as_of(
    connection: AsyncConnection, page: Sequence[Any], as_of: datetime
) -> dict[int, str]:
    """Of the (series, period) values on a page, the version current at `as_of` and the rule
    that chose it (`periods.deciding_rule`, as the importer records `chosen_by`), ranking the
    versions recorded by then and not withdrawn then as `_current_as_of` does."""
    if not page:
        return {}
    pairs = {(row[2], row[8]) for row in page}
    values = {
        "as_of": as_of,
        "series_ids": sorted({pair[0] for pair in pairs}),
        "periods": sorted({pair[1] for pair in pairs}),
    }
    ranked: dict[tuple[int, str], list[tuple[Rank, int]]] = {}
    for row in (await connection.execute(_versions_as_of_query(), values)).all():
        series_id, period, observation_id, reviewed, status, published, value, fingerprint = row
        if (series_id, period) in pairs:
            version_rank = rank(bool(reviewed), status, published, value, fingerprint)
            ranked.setdefault((series_id, period), []).append((version_rank, observation_id))
    chosen: dict[int, str] = {}
    for versions in ranked.values():
        versions.sort(reverse=True)
        rule = deciding_rule([version_rank for version_rank, _ in versions[:2]])
        if rule is not None:
            chosen[versions[0][1]] = rule
    return chosen


@cache
def _versions_as_of_query() -> Select[*tuple[Any, ...]]:
    """The versions of `:series_ids` x `:periods` that stood at `:as_of`, with what ranks them
    (the pairs a page holds are picked out of this superset in Python)."""
    return select(
        Observation.series_id,
        Observation.period,
        Observation.id,
        _reviewed_as_of(),
        Observation.status,
        Observation.published,
        Observation.value,
        Observation.fingerprint,
    ).where(
        Observation.series_id.in_(bindparam("series_ids", expanding=True)),
        Observation.period.in_(bindparam("periods", expanding=True)),
        Observation.recorded_at <= bindparam("as_of"),
        Observation.id.not_in(_withdrawn_as_of()),
    )


async def sources_by_observation(
    session: AsyncSession, observation_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """The sources (`SourceOut` fields) of each of the given observations, in one query."""
    return await _sources(session, await _reader(session), observation_ids)
