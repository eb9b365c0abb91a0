"""Reading flags: a filtered page with the versions and sources each one concerns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from chiso_indicators.db.models import (
    Observation,
    Provenance,
    QualityFlag,
    QualityFlagObservation,
    Series,
)
from chiso_indicators.observations.queries import sources_by_observation
from chiso_shared.pagination import decode_cursor, encode_cursor
from chiso_shared.series import status_word

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])

# Errors first, then warnings, then notes worth a look.
SEVERITY_ORDER = case(
    (QualityFlag.severity == "error", 0), (QualityFlag.severity == "warning", 1), else_=2
)


@dataclass(frozen=True, slots=True)
class FlagFilter:
    areas: Sequence[str] = ()
    indicators: Sequence[str] = ()
    document_id: str | None = None
    rule: str | None = None
    severity: str | None = None
    status: str = "open"


def _filtered(query: _S, f: FlagFilter) -> _S:
    if f.areas:
        query = query.where(QualityFlag.area_code.in_(f.areas))
    if f.indicators:
        query = query.where(QualityFlag.indicator_code.in_(f.indicators))
    if f.rule:
        query = query.where(QualityFlag.rule == f.rule)
    if f.severity:
        query = query.where(QualityFlag.severity == f.severity)
    if f.status == "open":
        query = query.where(QualityFlag.resolution.is_(None))
    elif f.status == "resolved":
        query = query.where(QualityFlag.resolution.is_not(None))
    if f.document_id:
        of_document = (
            select(QualityFlagObservation.flag_id)
            .join(Provenance, Provenance.observation_id == QualityFlagObservation.observation_id)
            .where(Provenance.document_id == f.document_id)
        )
        query = query.where(QualityFlag.id.in_(of_document))
    return query


async def list_flags(
    session: AsyncSession, f: FlagFilter, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = _filtered(select(QualityFlag, SEVERITY_ORDER.label("rank")), f)
    if cursor:
        rank, last = decode_cursor(cursor, kinds=(int, int), code="indicators.bad_cursor")
        query = query.where(
            or_(rank < SEVERITY_ORDER, and_(rank == SEVERITY_ORDER, QualityFlag.id > last))
        )
    query = query.order_by(SEVERITY_ORDER, QualityFlag.id).limit(limit + 1)
    rows = (await session.execute(query)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = await flags_out(session, [row[0] for row in rows])
    next_cursor = encode_cursor([rows[-1][1], rows[-1][0].id]) if more and rows else None
    return items, next_cursor


async def count_flags(
    session: AsyncSession, f: FlagFilter
) -> tuple[int, dict[str, dict[str, int]]]:
    """How many flags match, and how many per area, indicator, rule and document."""
    counts: dict[str, dict[str, int]] = {}
    for name, column in (
        ("area", QualityFlag.area_code),
        ("indicator", QualityFlag.indicator_code),
        ("rule", QualityFlag.rule),
    ):
        query = _filtered(select(column, func.count()).group_by(column), f)
        counts[name] = dict((await session.execute(query)).all())
    matching = _filtered(select(QualityFlag.id), f).subquery()
    by_document = (
        select(Provenance.document_id, func.count(func.distinct(QualityFlagObservation.flag_id)))
        .join(Provenance, Provenance.observation_id == QualityFlagObservation.observation_id)
        .where(QualityFlagObservation.flag_id.in_(select(matching.c.id)))
        .group_by(Provenance.document_id)
    )
    counts["document"] = dict((await session.execute(by_document)).all())
    return sum(counts["rule"].values()), counts


async def flags_out(session: AsyncSession, flags: Sequence[QualityFlag]) -> list[dict[str, Any]]:
    """Each flag as `FlagOut` fields, with its versions and their sources (a fixed number of
    statements for the page)."""
    if not flags:
        return []
    parts = (
        await session.execute(
            select(QualityFlagObservation).where(
                QualityFlagObservation.flag_id.in_([flag.id for flag in flags])
            )
        )
    ).scalars()
    by_flag: dict[int, list[tuple[int, str]]] = {}
    for part in parts:
        by_flag.setdefault(part.flag_id, []).append((part.observation_id, part.part))
    ids = sorted({id_ for found in by_flag.values() for id_, _ in found})
    versions = await _versions(session, ids)
    sources = await sources_by_observation(session, ids)
    return [_flag_out(flag, by_flag.get(flag.id, []), versions, sources) for flag in flags]


async def _versions(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, Any]]:
    query = (
        select(
            Observation.id,
            Series.indicator_code,
            Series.area_code,
            Observation.period,
            Series.measure,
            Series.transformation,
            Series.unit,
            Observation.value,
            Observation.status,
            Observation.is_current,
        )
        .join(Series, Series.id == Observation.series_id)
        .where(Observation.id.in_(ids))
    )
    return {
        row[0]: {
            "id": row[0],
            "indicator": row[1],
            "area": row[2],
            "period": row[3],
            "measure": row[4],
            "transformation": row[5],
            "unit": row[6],
            "value": row[7],
            "status": status_word(row[8]),
            "is_current": bool(row[9]),
        }
        for row in (await session.execute(query)).all()
    }


def _flag_out(
    flag: QualityFlag,
    parts: list[tuple[int, str]],
    versions: dict[int, dict[str, Any]],
    sources: dict[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    resolution = None
    if flag.resolution is not None:
        resolution = {
            "action": flag.resolution,
            "by": flag.resolved_by,
            "at": flag.resolved_at,
            "note": flag.resolution_note,
            "observation_id": flag.resolved_observation_id,
        }
    return {
        "id": flag.id,
        "key": flag.key,
        "rule": flag.rule,
        "severity": flag.severity,
        "status": "open" if flag.resolution is None else "resolved",
        "indicator": flag.indicator_code,
        "area": flag.area_code,
        "period": flag.period,
        "message_vi": flag.message_vi,
        "message_en": flag.message_en,
        "figures": flag.figures,
        "raised_at": flag.raised_at,
        "updated_at": flag.updated_at,
        "resolution": resolution,
        "observations": [
            versions[id_] | {"part": part, "sources": sources.get(id_, [])}
            for id_, part in sorted(parts, key=lambda p: (_PART_ORDER.get(p[1], 9), p[0]))
            if id_ in versions
        ],
    }


# The figure a message talks about first comes first.
_PART_ORDER = {"stated": 0, "total": 1, "value": 1, "level": 2, "target": 3, "previous": 4}
