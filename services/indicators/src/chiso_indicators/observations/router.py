"""/v1 routes: fact import, observations, series and the data revision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from pydantic_core import to_json
from sqlalchemy import select
from starlette.responses import Response

from chiso_indicators.db.models import DataRevision, Series
from chiso_indicators.deps import SessionDep, SettingsDep
from chiso_indicators.observations import importer
from chiso_indicators.observations.queries import ObservationFilter, list_observations
from chiso_indicators.observations.schemas import (
    FactBatch,
    ImportSummary,
    ObservationOut,
    ObservationQuery,
    Page,
    Revision,
    SeriesOut,
)
from chiso_shared.errors import FieldError, Unprocessable, problem_responses
from chiso_shared.facts import is_valid_period
from chiso_shared.responses import conditional, csv_bytes

router = APIRouter(prefix="/v1", tags=["observations"])

CSV_COLUMNS = (
    "indicator",
    "area",
    "frequency",
    "measure",
    "transformation",
    "unit",
    "period",
    "value",
    "of",
    "max",
    "status",
    "published",
    "is_current",
    "sources",
)


@router.post(
    "/facts",
    response_model=ImportSummary,
    summary="Import a batch of facts (idempotent)",
    responses=problem_responses(409, 413, 422),
)
async def post_facts(
    batch: FactBatch,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Re-sending a key replays its summary.")
    ] = None,
    dry_run: Annotated[bool, Query(description="Validate and count, write nothing.")] = False,
) -> ImportSummary:
    if len(batch.facts) + len(batch.withdrawn) > settings.max_batch_facts:
        raise Unprocessable(
            f"A batch holds at most {settings.max_batch_facts} facts.",
            code="indicators.batch_too_large",
            errors=[FieldError(field="body.facts", message="too many facts")],
        )
    if idempotency_key and not dry_run:
        replayed = await importer.replay(session, idempotency_key, batch)
        if replayed is not None:
            response.headers["Idempotent-Replayed"] = "true"
            return replayed
    return await importer.import_facts(session, batch, dry_run=dry_run, key=idempotency_key)


def _period(value: str | None, name: str) -> str | None:
    if value is not None and not is_valid_period(value):
        raise Unprocessable(
            f"{name} {value!r} is not a period such as 2023, 2023-Q1 or 2023-11.",
            code="indicators.bad_period",
            errors=[FieldError(field=f"query.{name}", message="not a period")],
        )
    return value


def _split(values: list[str] | None) -> list[str]:
    return [part for value in values or [] for part in value.split(",") if part]


@router.get(
    "/observations",
    response_model=Page[ObservationOut],
    summary="Observations with provenance, filtered and paged",
    responses={
        200: {"content": {"text/csv": {}}},
        **problem_responses(400, 422),
    },
)
async def get_observations(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: Annotated[ObservationQuery, Query()],
) -> Response:
    limit, cursor, format = query.limit, query.cursor, query.format
    size = limit or min(settings.default_page_size, settings.max_page_size)
    if size > settings.max_page_size:
        raise Unprocessable(
            f"limit may be at most {settings.max_page_size}.",
            code="indicators.page_too_large",
            errors=[FieldError(field="query.limit", message="too large")],
        )
    filters = ObservationFilter(
        indicators=_split(query.indicator),
        areas=_split(query.area),
        start_period=_period(query.start_period, "start_period"),
        end_period=_period(query.end_period, "end_period"),
        frequency=query.frequency,
        measure=query.measure,
        transformation=query.transformation,
        status=query.status,
        updated_after=query.updated_after,
        include_history=query.include_history,
        as_of=query.as_of,
        last_n=query.last_n,
    )
    items, next_cursor = await list_observations(session, filters, limit=size, cursor=cursor)
    if format == "csv":
        rows = (
            [
                *(item[column] for column in CSV_COLUMNS[:-1]),
                " ".join(f"{s['document_name']}:{s['start']}-{s['end']}" for s in item["sources"]),
            ]
            for item in items
        )
        headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
        return conditional(request, csv_bytes(CSV_COLUMNS, rows), "text/csv", headers=headers)
    # The rows are already `ObservationOut`-shaped and typed by their columns: pydantic-core
    # serialises them straight to the bytes the models would give, without building them.
    body = to_json({"items": items, "next_cursor": next_cursor})
    return conditional(request, body, "application/json")


@router.get("/series", response_model=list[SeriesOut], summary="Series, filtered")
async def get_series(
    session: SessionDep,
    indicator: Annotated[list[str] | None, Query(examples=["telecom.subscribers.total"])] = None,
    area: Annotated[list[str] | None, Query(examples=["VN-38"])] = None,
) -> list[SeriesOut]:
    query = select(Series).order_by(Series.indicator_code, Series.area_code, Series.id)
    if indicators := _split(indicator):
        query = query.where(Series.indicator_code.in_(indicators))
    if areas := _split(area):
        query = query.where(Series.area_code.in_(areas))
    return [
        SeriesOut(
            id=row.id,
            indicator=row.indicator_code,
            area=row.area_code,
            frequency=row.frequency,
            measure=row.measure,
            transformation=row.transformation,
            unit=row.unit,
        )
        for row in (await session.scalars(query)).all()
    ]


@router.get("/revision", response_model=Revision, summary="The data revision (for caches)")
async def get_revision(session: SessionDep) -> Revision:
    row = await session.get(DataRevision, 1)
    if row is None:
        return Revision(revision=0, updated_at=datetime.fromtimestamp(0))
    return Revision(revision=row.revision, updated_at=row.updated_at)
