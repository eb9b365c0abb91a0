"""/v1/indicators, /v1/indicators/{code}/series and /v1/observations, read from indicators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from chiso_gateway.cache import Payload
from chiso_gateway.deps import IndicatorsReader, Reads
from chiso_gateway.downloads import XLSX
from chiso_gateway.envelope import Envelope, example
from chiso_gateway.respond import Language, cached, json_payload, language, spliced_payload
from chiso_gateway.upstream import Upstream, UpstreamResponse, upstream_path
from chiso_shared.catalogue import area_code
from chiso_shared.errors import BadGateway, PayloadTooLarge, problem_example, problem_responses
from chiso_shared.exports import EXPORT_TOO_LARGE_DESCRIPTION, EXPORT_TOO_LARGE_EXAMPLE
from chiso_shared.pagination import TOTAL_COUNT_HEADER, next_url, paging_headers
from chiso_shared.series import COUNT_HEADER, NEXT_CURSOR_HEADER, SeriesPoint

router = APIRouter(prefix="/v1", tags=["indicators"])
AREA_DESCRIPTION = "An area code: `38` (the GSO's), `VN`, or an ISO 3166-2 code as `iso:VN-21`."
AreaCode = Annotated[
    str,
    AfterValidator(area_code),
    Query(max_length=16, description=AREA_DESCRIPTION, examples=["38"]),
]
MAX_SERIES_PAGES = 20  # of the aggregate views (summary, compare)


class SeriesData(BaseModel):
    """What a series read's `data` holds (`observations` is indicators' array, spliced in)."""

    indicator: str = Field(examples=["telecom.subscribers.total"])
    area: str = Field(examples=["38"])
    measure: str
    transformation: str
    observations: list[SeriesPoint]


class IndicatorList(Envelope[list[dict[str, Any]]]):
    """The indicator catalogue."""


@router.get(
    "/indicators",
    response_model=IndicatorList,
    summary="The indicator catalogue",
    responses={
        **example(
            {
                "data": [
                    {
                        "code": "telecom.subscribers.total",
                        "unit": "count",
                        "name": "Tổng số thuê bao điện thoại",
                        "name_vi": "Tổng số thuê bao điện thoại",
                        "name_en": "Telephone subscriptions, total",
                        "reference": "",
                    }
                ],
                "meta": {"count": 1, "data_revision": 12},
                "links": {"self": "https://api.example/v1/indicators"},
            }
        ),
        **problem_responses(401, 403, 429, 502, 504),
    },
)
async def list_indicators(
    request: Request,
    reads: IndicatorsReader,
) -> Response:
    lang = language(request)

    async def compute(current: int | None) -> Payload:
        rows = [
            _labelled(row, lang)
            for row in (await reads.indicators.request("GET", "/v1/indicators")).json()
        ]
        return json_payload(
            Envelope(data=rows, meta={"count": len(rows)}, links={"self": str(request.url)}),
            current,
        )

    return await cached(request, reads, compute)


def _labelled(row: dict[str, Any], lang: Language) -> dict[str, Any]:
    """The row with `name` in the asked language (both names stay for tools that want them)."""
    return {**row, "name": row.get(f"name_{lang}") or row.get("name_vi") or row.get("code")}


class IndicatorDetail(Envelope[dict[str, Any]]):
    """One indicator of the catalogue."""


@router.get(
    "/indicators/{code}",
    response_model=IndicatorDetail,
    summary="One indicator",
    responses={
        **example(
            {
                "data": {
                    "code": "telecom.subscribers.total",
                    "unit": "count",
                    "name": "Tổng số thuê bao điện thoại",
                    "name_vi": "Tổng số thuê bao điện thoại",
                    "name_en": "Telephone subscriptions, total",
                    "reference": "VN national indicator 1304 (TT 03/2022/TT-BTTTT); ITU i112",
                },
                "meta": {},
                "links": {
                    "self": "https://lgsp.example.gov.vn/chiso/v1/indicators/telecom.subscribers.total"
                },
            }
        ),
        **problem_responses(400, 401, 403, 404, 502, 504),
    },
)
async def get_indicator(
    request: Request,
    reads: IndicatorsReader,
    code: Annotated[str, Path(max_length=200, examples=["telecom.subscribers.total"])],
) -> Response:
    lang = language(request)

    async def compute(current: int | None) -> Payload:
        row = (
            await reads.indicators.request("GET", upstream_path("v1", "indicators", code))
        ).json()
        return json_payload(
            Envelope(data=_labelled(row, lang), links={"self": str(request.url)}), current
        )

    return await cached(request, reads, compute)


class SeriesQuery(BaseModel):
    """The query of a series read (one model: the route and its fast path validate alike)."""

    model_config = ConfigDict(extra="ignore")

    area: Annotated[str, AfterValidator(area_code)] = Field(
        max_length=16, description=AREA_DESCRIPTION, examples=["38"]
    )
    start: str | None = Field(default=None, alias="from", examples=["2022"])
    end: str | None = Field(default=None, alias="to", examples=["2023"])
    measure: Literal["actual", "target"] = "actual"
    transformation: str = Field(default="level", max_length=32)


class SeriesDetail(Envelope[SeriesData]):
    """One indicator's time series for one area."""


@router.get(
    "/indicators/{code}/series",
    response_model=SeriesDetail,
    summary="One indicator's time series for one area, with sources",
    description="Each point is the served version of its period, chosen by precedence: a "
    "version a person reviewed, then the higher status (actual > provisional > estimate > "
    "target), then the later publication, then the higher value; `chosen_by` names the step "
    "that decided. `quality` lists the data-quality flags, open and resolved, that involve it. "
    "`meta.count` is the points given and `meta.total` the points the series has; beyond "
    "`SERIES_MAX_PAGES` pages `meta.truncated` is true.",
    responses=problem_responses(400, 401, 403, 404, 422, 502, 504),
)
async def get_series(
    request: Request,
    reads: IndicatorsReader,
    code: Annotated[str, Path(max_length=200, examples=["telecom.subscribers.total"])],
    query: Annotated[SeriesQuery, Query()],
) -> Response:
    # The same answer as `fast_reads.FastSeriesRead`, which serves this route ahead of FastAPI.
    return await series_answer(request, reads, code, query)


async def series_answer(request: Request, reads: Reads, code: str, query: SeriesQuery) -> Response:
    async def compute(current: int | None) -> Payload:
        observations, count, total, truncated = await _observations(reads, code, query)
        head = {
            "indicator": code,
            "area": query.area,
            "measure": query.measure,
            "transformation": query.transformation,
        }
        meta: dict[str, Any] = {"count": count, "total": total}
        if truncated:
            meta["truncated"] = True  # more points than `series_max_pages` pages hold
        envelope: Envelope[dict[str, Any]] = Envelope(
            data=head, meta=meta, links={"self": str(request.url)}
        )
        return spliced_payload(envelope, "observations", observations, current)

    return await cached(request, reads, compute)


async def _observations(
    reads: Reads, code: str, query: SeriesQuery
) -> tuple[bytes, int, int | None, bool]:
    """The series' points as indicators wrote them (one JSON array, pages joined), how many,
    how many the whole series has (`X-Total-Count`, None if indicators did not say) and
    whether pages were left unread. They are not parsed: indicators' array already has
    the `SeriesPoint` shape, and parsing it and writing it again was the biggest part of the
    gateway's own work."""
    params: dict[str, Any] = {
        "area": query.area,
        "measure": query.measure,
        "transformation": query.transformation,
        "limit": reads.settings.series_page_size,
    }
    if query.start:
        params["start_period"] = query.start
    if query.end:
        params["end_period"] = query.end
    path = upstream_path("v1", "indicators", code, "series")
    pages: list[bytes] = []
    count, cursor, total = 0, None, None
    for _ in range(reads.settings.series_max_pages):
        response = await reads.indicators.request("GET", path, params=params)
        inner, size = _page(response)
        total = _total(response, total)
        if size:
            pages.append(inner)
            count += size
        cursor = response.headers.get(NEXT_CURSOR_HEADER)
        if not cursor:
            break
        params = {**params, "cursor": cursor}
    return b"[" + b",".join(pages) + b"]", count, total, bool(cursor)


def _total(response: UpstreamResponse, known: int | None) -> int | None:
    """The series' size from the first page that states it (`X-Total-Count`)."""
    if known is not None:
        return known
    stated = response.headers.get(TOTAL_COUNT_HEADER, "")
    return int(stated) if stated.isdigit() else None


def _page(response: UpstreamResponse) -> tuple[bytes, int]:
    """A page's array without its brackets, and its count; 502 unless it looks like one."""
    body = response.content.strip()
    try:
        size = int(response.headers.get(COUNT_HEADER, ""))
    except ValueError:
        size = -1
    framed = body[:1] == b"[" and body[-1:] == b"]"
    json_body = response.headers.get("content-type", "").startswith("application/json")
    if not (framed and json_body and size >= 0 and (size == 0) == (body[1:-1].strip() == b"")):
        raise BadGateway(
            "The indicators service answered a series page in an unexpected shape.",
            code="gateway.upstream_invalid",
            headers={"X-Gateway-Error": "indicators:invalid"},
        )
    return body[1:-1], size


async def all_pages(indicators: Upstream, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of an observations read, joined; 413 rather than a part when the selection
    holds more than `MAX_SERIES_PAGES` pages (the aggregate views are never cut silently)."""
    items: list[dict[str, Any]] = []
    for _ in range(MAX_SERIES_PAGES):
        page = (await indicators.request("GET", "/v1/observations", params=params)).json()
        items.extend(page["items"])
        if not page.get("next_cursor"):
            return items
        params = {**params, "cursor": page["next_cursor"]}
    total, most = page.get("total", "more"), len(items)
    raise PayloadTooLarge(
        f"The view would read {total} observations, more than the {most} it may; narrow the "
        f"periods or the areas. / Chế độ xem cần đọc {total} quan sát, nhiều hơn mức tối đa "
        f"{most}; hãy thu hẹp kỳ hoặc địa bàn.",
        code="gateway.selection_too_large",
    )


# The headers of an observations read that the gateway passes on as indicators set them;
# `Link` is written again, with the gateway's own URL.
PASSED_ON = (NEXT_CURSOR_HEADER, TOTAL_COUNT_HEADER, "Content-Disposition")
BULK_NOTE = (
    "`format=csv` or `format=xlsx` without `limit` or `cursor` is the whole selection in one "
    "file, never one page: over indicators' `MAX_EXPORT_OBSERVATIONS` rows the answer is 413 "
    "`indicators.export_too_large` (narrow the filters, or page), and a file larger than "
    "`UPSTREAM_MAX_BODY_BYTES` is a 502, never cut. With `limit` or `cursor` a CSV or XLSX is "
    "one page, the next in `X-Next-Cursor` and `Link` (rel=next). JSON is one page: "
    "`meta.total` (and `X-Total-Count`) the size of the whole selection, `links.next` and the "
    "`Link` header the next page's URL on this gateway. `Accept-Encoding: gzip` gets it gzipped."
)


class ObservationPage(Envelope[list[dict[str, Any]]]):
    """A page of observations."""


@router.get(
    "/observations",
    response_model=ObservationPage,
    summary="Observations, with the indicators service's filters passed through",
    description="The indicators filters (indicator, area, start_period, end_period, frequency, "
    "measure, transformation, status, updated_after, include_history, as_of, last_n, limit, "
    "cursor) pass through. `is_current` marks the served version of each period and "
    "`chosen_by` the precedence step that chose it (reviewed > actual > provisional > "
    "estimate > target; then the later publication; then the value); `quality` lists the "
    f"flags that involve a version. {BULK_NOTE}",
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "indicator,area,frequency,measure,transformation,unit,period,"
                    "value,of,max,status,published,is_current,chosen_by,sources,quality\n"
                    "telecom.subscribers.total,VN-38,A,actual,level,count,2023,2980000,,,E,"
                    "2023-12-20,True,only,thanh-hoa-2023.txt:312-321,\n",
                },
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
            "headers": {
                "Link": {
                    "description": "RFC 8288: `<URL of the next page on this gateway>; "
                    'rel="next"`, every query parameter kept; absent on the last page and on a '
                    "whole file.",
                    "schema": {"type": "string"},
                    "example": "<https://lgsp.example.gov.vn/chiso/v1/observations?area=VN-38"
                    '&limit=100&cursor=WyJ0ZWxlY29tIl0>; rel="next"',
                },
                TOTAL_COUNT_HEADER: {
                    "description": "How many rows the whole selection holds.",
                    "schema": {"type": "integer"},
                    "example": 5000,
                },
                NEXT_CURSOR_HEADER: {
                    "description": "The `cursor` of the next page (CSV and XLSX pages).",
                    "schema": {"type": "string"},
                },
            },
        },
        **problem_responses(400, 401, 403, 422, 502, 504),
        # a whole-selection file over indicators' MAX_EXPORT_OBSERVATIONS: its 413, passed on
        **problem_example(413, EXPORT_TOO_LARGE_DESCRIPTION, EXPORT_TOO_LARGE_EXAMPLE),
    },
)
async def list_observations(
    request: Request,
    reads: IndicatorsReader,
    _indicator: Annotated[
        str | None, Query(alias="indicator", examples=["telecom.subscribers.total"])
    ] = None,
    _area: Annotated[str | None, Query(alias="area", examples=["38,46"])] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Response:
    params = request.query_params.multi_items()
    whole = format != "json" and not {"limit", "cursor"} & set(request.query_params)
    if whole:
        return await _whole_file(reads, params)

    async def compute(current: int | None) -> Payload:
        response = await reads.indicators.request("GET", "/v1/observations", params=params)
        if format != "json":
            headers = {
                name: response.headers[name] for name in PASSED_ON if name in response.headers
            }
            following = response.headers.get(NEXT_CURSOR_HEADER)
            headers |= paging_headers(request.url, following, None)
            media_type = response.headers.get("content-type", "text/csv; charset=utf-8")
            return Payload(response.content, media_type, headers)
        page = response.json()
        next_cursor = page.get("next_cursor")
        total = page.get("total")
        links: dict[str, str | None] = {"self": str(request.url), "next": None}
        if next_cursor:
            links["next"] = next_url(request.url, next_cursor)
        meta = {"count": len(page["items"]), "total": total, "next_cursor": next_cursor}
        payload = json_payload(Envelope(data=page["items"], meta=meta, links=links), current)
        headers = paging_headers(request.url, next_cursor, total)
        return Payload(payload.body, payload.media_type, headers)

    return await cached(request, reads, compute)


async def _whole_file(reads: Reads, params: list[tuple[str, str]]) -> Response:
    """The whole selection as indicators' CSV or XLSX, passed on as it arrives: never held
    whole (nor cached), so its size is bounded by indicators' `MAX_EXPORT_OBSERVATIONS` alone.
    A refusal (413 over that maximum) comes before the first byte and is passed on."""
    opened = await reads.indicators.stream("/v1/observations", params=params)
    headers = {name: opened.headers[name] for name in PASSED_ON if name in opened.headers}
    media_type = opened.headers.get("content-type", "text/csv; charset=utf-8")
    headers["Cache-Control"] = "private, no-cache"
    return StreamingResponse(opened.chunks(), media_type=media_type, headers=headers)
