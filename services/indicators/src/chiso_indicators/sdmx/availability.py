"""Data availability (SDMX REST `availableconstraint`): the codes that actually have data.

The answer is an "Actual" content constraint with one cube region: for each dimension the
codes of the series that have current observations, and the time range they cover. In
`exact` mode every dimension is narrowed by the whole key; in `available` mode each
dimension by the key's other parts only, so a client building a query sees which codes it
could still pick (the SDMX REST guide's two modes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.db.models import Series
from chiso_indicators.observations.queries import ObservationFilter, series_summaries
from chiso_indicators.sdmx.data import NO_RESULTS, check_flow, parse_key, period_bound
from chiso_indicators.sdmx.model import (
    DIMENSIONS,
    SDMX_FREQUENCIES,
    TIME,
    Availability,
    series_key,
)
from chiso_shared.errors import FieldError, NotFound
from chiso_shared.periods import Period

Mode = Literal["exact", "available"]
COMPONENTS = (*(d.id for d in DIMENSIONS), TIME)


@dataclass(frozen=True)
class _Summary:
    key: tuple[str, ...]  # SDMX codes, DSD order
    chiso: tuple[str, ...]  # the same in chiso's values, to match the parsed key
    observations: int
    first: str
    last: str


def _matches(summary: _Summary, wanted: Sequence[list[str]], skip: int | None = None) -> bool:
    return all(
        not values or summary.chiso[i] in values for i, values in enumerate(wanted) if i != skip
    )


def _time_range(rows: Sequence[_Summary]) -> tuple[date | None, date | None]:
    firsts = [p for p in (Period.try_parse(r.first) for r in rows) if p is not None]
    lasts = [p for p in (Period.try_parse(r.last) for r in rows) if p is not None]
    start = min((p.start for p in firsts), default=None)
    end = max((p.end for p in lasts), default=None)
    return start, end


async def available(
    session: AsyncSession,
    flow: str,
    key: str,
    *,
    component: str,
    mode: Mode,
    start_period: str | None,
    end_period: str | None,
    updated_after: datetime | None,
) -> Availability:
    check_flow(flow)
    if component != "all" and component not in COMPONENTS:
        raise NotFound(
            f"{component!r} is not a component of this dataflow ({', '.join(COMPONENTS)}). / "
            f"{component!r} không phải thành phần của luồng số liệu này.",
            code="indicators.sdmx_unknown_component",
            errors=[FieldError(field="path.componentID", message="unknown component")],
        )
    wanted = parse_key(key)
    # Every series of the dataflow (the periods narrowed): the key is applied here, per
    # dimension, because `available` mode leaves each dimension's own part out.
    filters = ObservationFilter(
        frequencies=list(SDMX_FREQUENCIES),
        start_period=period_bound(start_period, "startPeriod"),
        end_period=period_bound(end_period, "endPeriod"),
        updated_after=updated_after,
    )
    summaries = [
        _Summary(series_key(series), _chiso_key(series), count, first, last)
        for series, count, first, last in await series_summaries(session, filters)
    ]
    exact = [s for s in summaries if _matches(s, wanted)]
    if not exact:
        raise NotFound(NO_RESULTS, code="indicators.sdmx_no_results")
    codes: dict[str, list[str]] = {}
    for position, dimension in enumerate(DIMENSIONS):
        if component not in ("all", dimension.id):
            continue
        pool = (
            exact
            if mode == "exact"
            else [s for s in summaries if _matches(s, wanted, skip=position)]
        )
        codes[dimension.id] = sorted({s.key[position] for s in pool})
    start, end = _time_range(exact) if component in ("all", TIME) else (None, None)
    return Availability(
        codes=codes,
        start=start,
        end=end,
        series_count=len(exact),
        obs_count=sum(s.observations for s in exact),
    )


def _chiso_key(series: Series) -> tuple[str, ...]:
    return tuple(str(getattr(series, d.column)) for d in DIMENSIONS)
