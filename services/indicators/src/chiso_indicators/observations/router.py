"""/v1 routes: fact import, observations, series and the data revision."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic_core import to_json
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response, StreamingResponse

from chiso_indicators.db.models import DataRevision, Indicator, Series
from chiso_indicators.deps import QualityBookDep, SessionDep, SettingsDep
from chiso_indicators.metrics import indicators_metrics
from chiso_indicators.observations import importer
from chiso_indicators.observations.queries import (
    ObservationFilter,
    count_observations,
    list_observations,
    observation_chunks,
)
from chiso_indicators.observations.schemas import (
    FactBatch,
    ImportSummary,
    ObservationPage,
    ObservationQuery,
    Revision,
    SeriesOut,
    SeriesPointsQuery,
)
from chiso_indicators.quality.notes import open_notes
from chiso_indicators.quality.rules import RuleBook
from chiso_indicators.settings import Settings
from chiso_shared.catalogue import resolve_areas
from chiso_shared.errors import (
    FieldError,
    NotFound,
    Unprocessable,
    problem_example,
    problem_responses,
)
from chiso_shared.exports import (
    EXPORT_TOO_LARGE_DESCRIPTION,
    EXPORT_TOO_LARGE_EXAMPLE,
    export_too_large,
)
from chiso_shared.pagination import LINK_HEADER, TOTAL_COUNT_HEADER, paging_headers
from chiso_shared.periods import Period
from chiso_shared.responses import conditional, csv_bytes, csv_lines
from chiso_shared.series import COUNT_HEADER, NEXT_CURSOR_HEADER, STATUS_LETTERS, SeriesPoint
from chiso_shared.tables import XLSX_MAX_ROWS, XLSX_MEDIA_TYPE, XlsxTable

router = APIRouter(prefix="/v1", tags=["observations"])

# The OpenAPI words on which version is served and on the flags every read carries.
PRECEDENCE = (
    "Each (series, period) keeps every version; the one served (`is_current`) is chosen by "
    "precedence: a version a person reviewed, then the higher status (actual > provisional > "
    "estimate > target), then the later publication, then the higher value. `chosen_by` names "
    "the step that decided (`only` when there was one version). `quality` lists the "
    "data-quality flags, open and resolved, that involve the value (`GET /v1/quality/{id}`)."
)

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
    "chosen_by",
    "sources",
    "quality",
)


@router.post(
    "/facts",
    response_model=ImportSummary,
    summary="Import a batch of facts (idempotent)",
    # 400: a body that is not UTF-8 fails before it can be validated.
    responses=problem_responses(400, 409, 413, 422),
)
async def post_facts(
    request: Request,
    batch: FactBatch,
    session: SessionDep,
    settings: SettingsDep,
    book: QualityBookDep,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Re-sending a key replays its summary.")
    ] = None,
    dry_run: Annotated[bool, Query(description="Validate and count, write nothing.")] = False,
) -> ImportSummary:
    metrics = indicators_metrics(request)
    with metrics.importing("facts"):
        summary = await _import(batch, session, settings, book, response, idempotency_key, dry_run)
    if response.headers.get("Idempotent-Replayed") == "true":
        metrics.import_batches.labels("facts", "replayed").inc()
    else:
        metrics.imported("facts", dry_run=dry_run, counts=summary.model_dump())
    return summary


async def _import(
    batch: FactBatch,
    session: AsyncSession,
    settings: Settings,
    book: RuleBook | None,
    response: Response,
    idempotency_key: str | None,
    dry_run: bool,
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
    return await importer.import_facts(
        session, batch, dry_run=dry_run, key=idempotency_key, book=book
    )


def _period(value: str | None, name: str) -> str | None:
    if value is not None and Period.try_parse(value) is None:
        raise Unprocessable(
            f"{name} {value!r} is not a period such as 2023, 2023-Q1 or 2023-11.",
            code="indicators.bad_period",
            errors=[FieldError(field=f"query.{name}", message="not a period")],
        )
    return value


def _page_size(limit: int | None, settings: Settings) -> int:
    size = limit or min(settings.default_page_size, settings.max_page_size)
    if size > settings.max_page_size:
        raise Unprocessable(
            f"limit may be at most {settings.max_page_size}.",
            code="indicators.page_too_large",
            errors=[FieldError(field="query.limit", message="too large")],
        )
    return size


def _split(values: list[str] | None) -> list[str]:
    return [part for value in values or [] for part in value.split(",") if part]


# What a bulk read is and how it is bounded, said in the OpenAPI of each route that has one.
BULK = (
    "`format=csv` or `format=xlsx` without `limit` or `cursor` is the WHOLE selection in one "
    "file, never one page of it: the rows are counted first, then read from the database in "
    "pages of `MAX_PAGE_SIZE` and streamed (an XLSX, a zip, is sent when complete). Over "
    "`MAX_EXPORT_OBSERVATIONS` rows the answer is 413 `indicators.export_too_large`, saying how "
    "many rows matched: narrow the filters, or page. With `limit` or `cursor` a CSV or XLSX is "
    "one page, its next page in `X-Next-Cursor` and `Link`. `X-Total-Count` always gives the "
    "size of the whole selection; a client that sends `Accept-Encoding: gzip` gets it gzipped."
)
XLSX_SHEET = "observations"


def paging_header_docs(*, bulk: bool = False) -> dict[str, Any]:
    """The OpenAPI `headers` of a page (and, `bulk`, of a whole-selection file)."""
    return {
        LINK_HEADER: {
            "description": 'RFC 8288: `<URL of the next page>; rel="next"`, every query '
            "parameter kept; absent on the last page"
            + (" and on a whole-selection file." if bulk else "."),
            "schema": {"type": "string"},
            "example": "<http://indicators:8002/v1/observations?area=VN-38&cursor=WyJ0ZWxlY29t"
            'Il0>; rel="next"',
        },
        TOTAL_COUNT_HEADER: {
            "description": "How many rows the whole selection holds, over every page.",
            "schema": {"type": "integer"},
            "example": 5000,
        },
        NEXT_CURSOR_HEADER: {
            "description": "The `cursor` of the next page, when there is one.",
            "schema": {"type": "string"},
        },
    }


@router.get(
    "/observations",
    response_model=ObservationPage,
    summary="Observations with provenance, filtered; pages as JSON, the whole selection as CSV "
    "or XLSX",
    description=f"{PRECEDENCE} With `as_of`, `is_current` and `chosen_by` are as they stood "
    "then. JSON is one page: `next_cursor` and `total` in the body, the next page's URL in "
    "`Link` (rel=next). The CSV and XLSX add `chosen_by` and `quality` columns: the open flags "
    f"as `rule:severity`, space-separated. {BULK}",
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": ",".join(CSV_COLUMNS)
                    + "\ntelecom.subscribers.total,VN-38,A,actual,level,count,2023,2980000,,,"
                    "E,2023-12-20,True,only,thanh-hoa-2023.txt:312-321,\n",
                },
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
            "headers": paging_header_docs(bulk=True),
        },
        **problem_responses(400, 422),
        **problem_example(413, EXPORT_TOO_LARGE_DESCRIPTION, EXPORT_TOO_LARGE_EXAMPLE),
    },
)
async def get_observations(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: Annotated[ObservationQuery, Query()],
) -> Response:
    filters = ObservationFilter(
        indicators=_split(query.indicator),
        areas=resolve_areas(_split(query.area)),
        start_period=_period(query.start_period, "start_period"),
        end_period=_period(query.end_period, "end_period"),
        frequency=query.frequency,
        measure=query.measure,
        transformation=query.transformation,
        status=STATUS_LETTERS.get(query.status, query.status) if query.status else None,
        updated_after=query.updated_after,
        include_history=query.include_history,
        as_of=query.as_of,
        last_n=query.last_n,
    )
    if query.format != "json" and query.limit is None and query.cursor is None:
        return await _export(request, session, settings, filters, query.format)
    size = _page_size(query.limit, settings)
    # The page first: a cursor it cannot read is refused before anything else is asked.
    items, next_cursor = await list_observations(session, filters, limit=size, cursor=query.cursor)
    total = await _total(session, filters, items, query.cursor, next_cursor)
    headers = paging_headers(request.url, next_cursor, total)
    if query.format == "json":
        # The rows are already `ObservationOut`-shaped and typed by their columns:
        # pydantic-core serialises them straight to the bytes the models would give.
        body = to_json({"items": items, "next_cursor": next_cursor, "total": total})
        return conditional(request, body, "application/json", headers=headers)
    if next_cursor:
        headers[NEXT_CURSOR_HEADER] = next_cursor
    if query.format == "csv":
        rows = (_csv_row(item) for item in items)
        return conditional(request, csv_bytes(CSV_COLUMNS, rows), "text/csv", headers=headers)
    table = XlsxTable(CSV_COLUMNS, XLSX_SHEET)
    table.write(_csv_row(item) for item in items)
    return conditional(request, await table.aclose(), XLSX_MEDIA_TYPE, headers=headers)


async def _total(
    session: AsyncSession,
    filters: ObservationFilter,
    items: list[dict[str, Any]],
    cursor: str | None,
    next_cursor: str | None,
) -> int:
    """The selection's size: a first page with no next one is all of it, and counting it
    again would cost a query on the busiest read (one series' points); else one COUNT."""
    if cursor is None and next_cursor is None:
        return len(items)
    return await count_observations(session, filters)


async def _export(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    filters: ObservationFilter,
    format: Literal["csv", "xlsx"],
) -> Response:
    """The whole selection as one CSV (streamed) or XLSX file: counted first, refused whole
    (413) when it holds more than an export may, never cut."""
    total = await count_observations(session, filters)
    most = settings.max_export_observations
    if format == "xlsx":
        most = min(most, XLSX_MAX_ROWS - 1)  # a sheet's rows, the title row being one
    if total > most:
        raise export_too_large(total, most)
    headers = {
        TOTAL_COUNT_HEADER: str(total),
        "Content-Disposition": f'attachment; filename="observations.{format}"',
    }
    sessionmaker = cast(async_sessionmaker[AsyncSession], request.state.sessionmaker)
    chunks = observation_chunks(sessionmaker, filters, chunk=settings.max_page_size)
    if format == "csv":
        return StreamingResponse(_csv_stream(chunks), media_type="text/csv", headers=headers)
    table = XlsxTable(CSV_COLUMNS, XLSX_SHEET, large=True)
    async for items in chunks:
        table.write(_csv_row(item) for item in items)
    return Response(await table.aclose(), media_type=XLSX_MEDIA_TYPE, headers=headers)


async def _csv_stream(chunks: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    yield csv_lines([CSV_COLUMNS])
    async for items in chunks:
        yield csv_lines(_csv_row(item) for item in items)


def _csv_row(item: dict[str, Any]) -> list[Any]:
    """An `ObservationOut`-shaped row as `CSV_COLUMNS`: sources as `document:start-end` and the
    open flags as `rule:severity`, space-separated."""
    sources = " ".join(f"{s['document_name']}:{s['start']}-{s['end']}" for s in item["sources"])
    flags = " ".join(f"{n['rule']}:{n['severity']}" for n in open_notes(item["quality"]))
    return [*(item[column] for column in CSV_COLUMNS[:-2]), sources, flags]


@router.get(
    "/indicators/{code}/series",
    response_model=list[SeriesPoint],
    summary="One indicator's current values for one area, point by point, with sources",
    description="A JSON array of points in period order, one page of it: `X-Count` says how "
    "many points the page holds, `X-Total-Count` how many the whole series has, and "
    "`X-Next-Cursor` and `Link` (rel=next), present when more follow, the `cursor` and the URL "
    f"of the next page. The gateway passes the array on inside its envelope as it is. {PRECEDENCE}",
    responses={
        200: {
            "headers": {
                COUNT_HEADER: {
                    "description": "Points on this page.",
                    "schema": {"type": "integer"},
                },
                **paging_header_docs(),
            }
        },
        # 400: a cursor this service did not issue.
        **problem_responses(400, 404, 422),
    },
)
async def get_indicator_series(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Path(max_length=200, examples=["telecom.subscribers.total"])],
    query: Annotated[SeriesPointsQuery, Query()],
) -> Response:
    filters = ObservationFilter(
        indicators=[code],
        areas=[query.area],
        start_period=_period(query.start_period, "start_period"),
        end_period=_period(query.end_period, "end_period"),
        measure=query.measure,
        transformation=query.transformation,
    )
    size = _page_size(query.limit, settings)
    items, next_cursor = await list_observations(session, filters, limit=size, cursor=query.cursor)
    total = await _total(session, filters, items, query.cursor, next_cursor)
    # Only an empty answer can hide an unknown code; ask then, to answer 404 rather than [].
    if not total and await session.get(Indicator, code) is None:
        raise NotFound(f"No indicator with code {code!r}.", code="indicators.unknown_indicator")
    headers = {COUNT_HEADER: str(len(items)), **paging_headers(request.url, next_cursor, total)}
    if next_cursor:
        headers[NEXT_CURSOR_HEADER] = next_cursor
    body = to_json([_point(item) for item in items])
    return conditional(request, body, "application/json", headers=headers)


def _point(item: dict[str, Any]) -> dict[str, Any]:
    """An `ObservationOut`-shaped row as a `SeriesPoint` (in its field order)."""
    return {
        "period": item["period"],
        "value": item["value"],
        "status": item["status"],
        "unit": item["unit"],
        "chosen_by": item["chosen_by"],
        "sources": [
            {
                "document": source["document_name"],
                "document_id": source["document_id"],
                "published": source["published"],
                "text": source["text"],
                "start": source["start"],
                "end": source["end"],
                "label": source["label"],
                "doubts": source["doubts"],
                "confidence": source["confidence"],
                "reviewed_by": source["reviewed_by"],
                "reviewed_at": source["reviewed_at"],
                "review_action": source["review_action"],
            }
            for source in item["sources"]
        ],
        "quality": item["quality"],
    }


@router.get("/series", response_model=list[SeriesOut], summary="Series, filtered")
async def get_series(
    session: SessionDep,
    indicator: Annotated[list[str] | None, Query(examples=["telecom.subscribers.total"])] = None,
    area: Annotated[list[str] | None, Query(examples=["38"])] = None,
) -> list[SeriesOut]:
    query = select(Series).order_by(Series.indicator_code, Series.area_code, Series.id)
    if indicators := _split(indicator):
        query = query.where(Series.indicator_code.in_(indicators))
    if areas := resolve_areas(_split(area)):
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
