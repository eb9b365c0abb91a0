"""/v1/areas/{code}/summary and /v1/compare: small, cached answers for apps like Hue-S."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from chiso_gateway import insights
from chiso_gateway.cache import Payload
from chiso_gateway.deps import IndicatorsReader
from chiso_gateway.downloads import XLSX, Format, compare_table, download, summary_table
from chiso_gateway.envelope import Envelope
from chiso_gateway.people import people
from chiso_gateway.respond import cached, json_payload, language
from chiso_gateway.upstream import upstream_path
from chiso_gateway.views.indicators import AREA_DESCRIPTION, all_pages
from chiso_shared.catalogue import resolve_area, resolve_areas
from chiso_shared.errors import FieldError, NotFound, Unprocessable, problem_responses

router = APIRouter(prefix="/v1", tags=["views"])

SUMMARY_EXAMPLE = {
    "data": {
        "area": "46",
        "name": "Thừa Thiên Huế",
        "indicators": [
            {
                "indicator": "telecom.subscribers.total",
                "name": "Tổng số thuê bao điện thoại",
                "unit": "count",
                "period": "2023",
                "value": 1450000,
                "status": "estimate",
                "change": {
                    "previous_period": "2022",
                    "previous_value": 1400000,
                    "absolute": 50000,
                    "percent": 3.57,
                },
                "reported_change_percent": 3.6,
                "source": {
                    "document": "hue-2023.txt",
                    "document_id": "d1",
                    "published": "2023-12-20",
                    "text": "1.450.000",
                    "start": 1170,
                    "end": 1179,
                    "doubts": [],
                    "confidence": 1.0,
                    "reviewed_by": "ch_3f9a1c",
                    "reviewed_at": "2026-12-07T09:30:00Z",
                },
            }
        ],
    },
    "meta": {"count": 1, "people": {"ch_3f9a1c": "Nguyễn Văn An"}, "data_revision": 12},
    "links": {"self": "https://api.example/v1/areas/46/summary"},
}
COMPARE_EXAMPLE = {
    "data": {
        "indicator": "telecom.subscribers.total",
        "name": "Total telephone subscribers",
        "unit": "count",
        "periods": ["2022", "2023"],
        "areas": [
            {
                "area": "38",
                "name": "Thanh Hoa",
                "latest": {
                    "period": "2023",
                    "value": 2980000,
                    "status": "estimate",
                    "source": None,
                },
                "observations": [
                    {"period": "2023", "value": 2980000, "status": "estimate", "source": None}
                ],
            }
        ],
    },
    "meta": {"people": {}, "data_revision": 12},
    "links": {"self": "https://api.example/v1/compare?indicator=...&areas=38,46"},
}


PEOPLE_NOTE = (
    "A source a person reviewed names them by client id (`reviewed_by`); `meta.people` maps "
    "each such id to the reviewer's name (an id no longer registered is left out)."
)


def _example(body: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "content": {
                "application/json": {"example": body},
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The view; with `format=csv` or `format=xlsx`, the same table as "
            "a file (column titles in the Accept-Language).",
        }
    }


FormatQuery = Annotated[
    Format,
    Query(
        description="`json` (default), or the table as a `csv` (UTF-8 with BOM) or `xlsx` file.",
        examples=["csv"],
    ),
]


class AreaSummary(Envelope[dict[str, Any]]):
    """A province's key indicators: latest value, change and source."""


@router.get(
    "/areas/{code}/summary",
    response_model=AreaSummary,
    summary="A province's key indicators: latest value, change and source",
    description=PEOPLE_NOTE,
    responses={
        **_example(SUMMARY_EXAMPLE),
        # 413: more observations than the view reads (`all_pages`), refused rather than cut
        **problem_responses(401, 403, 404, 413, 429, 502, 504),
    },
)
async def area_summary(
    request: Request,
    reads: IndicatorsReader,
    code: Annotated[
        str, Path(max_length=16, description=AREA_DESCRIPTION, examples=["46", "iso:VN-26"])
    ],
    format: FormatQuery = "json",
) -> Response:
    known = resolve_area(code)
    if known is None:
        raise NotFound(
            f"No area with code {code!r}. / Không có địa bàn mã {code!r}.",
            code="gateway.unknown_area",
        )
    code = known
    lang = language(request)

    async def compute(current: int | None) -> Payload:
        params = {
            "area": code,
            "indicator": ",".join(reads.settings.summary_indicators),
            "measure": "actual",
            "limit": 1000,
        }
        items = await all_pages(reads.indicators, params)
        data = insights.summary(code, items, reads.settings.summary_indicators, lang)
        if format != "json":
            return download(summary_table(data, lang), format, f"chiso-{code}")
        # Reviewers' names are cached with the answer, like the trace's (views/trace.py).
        meta = {"count": len(data["indicators"]), "people": await people(request, data)}
        return json_payload(
            Envelope(data=data, meta=meta, links={"self": str(request.url)}), current
        )

    return await cached(request, reads, compute)


def _areas(value: str, most: int) -> list[str]:
    given = [part.strip() for part in value.split(",") if part.strip()]
    bad = [code for code in given if resolve_area(code) is None]
    codes = list(dict.fromkeys(resolve_areas(given)))
    problem = (
        f"unknown area(s) {', '.join(bad)}"
        if bad
        else f"give 1 to {most} areas"
        if not 1 <= len(codes) <= most
        else ""
    )
    if problem:
        raise Unprocessable(
            f"areas: {problem}. / Mã địa bàn: {problem}.",
            code="gateway.bad_areas",
            errors=[FieldError(field="query.areas", message=problem)],
        )
    return codes


class AreaComparison(Envelope[dict[str, Any]]):
    """One indicator for several areas, side by side."""


@router.get(
    "/compare",
    response_model=AreaComparison,
    summary="One indicator for several provinces, side by side",
    description=PEOPLE_NOTE,
    responses={
        **_example(COMPARE_EXAMPLE),
        **problem_responses(400, 401, 403, 404, 413, 422, 429, 502, 504),
    },
)
async def compare(
    request: Request,
    reads: IndicatorsReader,
    # min_length: an empty code would read the catalogue's list as if it were one indicator.
    indicator: Annotated[
        str, Query(min_length=1, max_length=200, examples=["telecom.subscribers.total"])
    ],
    areas: Annotated[
        str,
        Query(
            max_length=500,
            description="Area codes, comma-separated (`38,46`; `iso:VN-21` too).",
            examples=["38,46"],
        ),
    ],
    start: Annotated[str | None, Query(alias="from", max_length=10, examples=["2022"])] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10, examples=["2023"])] = None,
    format: FormatQuery = "json",
) -> Response:
    codes = _areas(areas, reads.settings.compare_max_areas)
    lang = language(request)

    async def compute(current: int | None) -> Payload:
        path = upstream_path("v1", "indicators", indicator)
        definition = (await reads.indicators.request("GET", path)).json()
        params: dict[str, Any] = {
            "indicator": indicator,
            "area": ",".join(codes),
            "measure": "actual",
            "transformation": "level",
            "limit": 1000,
        }
        params.update({k: v for k, v in (("start_period", start), ("end_period", end)) if v})
        items = await all_pages(reads.indicators, params)
        data = insights.compare(definition, codes, items, lang)
        if format != "json":
            return download(compare_table(data, lang), format, f"chiso-{indicator}")
        meta = {"people": await people(request, data)}  # cached with it, as the summary's
        return json_payload(
            Envelope(data=data, meta=meta, links={"self": str(request.url)}), current
        )

    return await cached(request, reads, compute)
