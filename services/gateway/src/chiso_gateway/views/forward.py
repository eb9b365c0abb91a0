"""/dhis2/...: the indicators service's DHIS2 reads, forwarded and cached; `_forward` also
serves the SDMX routes (views/sdmx.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from chiso_gateway.cache import Payload
from chiso_gateway.deps import IndicatorsReader, Reads
from chiso_gateway.respond import cached
from chiso_gateway.upstream import upstream_path
from chiso_shared.errors import problem_responses

router = APIRouter(tags=["standards"])
# Accept and Accept-Language choose the representation (SDMX-ML, SDMX-JSON, CSV; the names'
# language), and the cache keys on both.
PASSED_HEADERS = ("accept", "accept-language")
RETURNED_HEADERS = ("x-next-cursor", "content-disposition")


async def _forward(
    prefix: str,
    rest: str,
    request: Request,
    reads: Reads,
) -> Response:
    headers = {name: request.headers[name] for name in PASSED_HEADERS if name in request.headers}

    async def compute(_current: int | None) -> Payload:
        response = await reads.indicators.request(
            "GET",
            upstream_path(prefix, *rest.split("/")),
            params=request.query_params.multi_items(),
            headers=headers,
        )
        kept = {
            name: response.headers[name] for name in RETURNED_HEADERS if name in response.headers
        }
        media_type = response.headers.get("content-type", "application/octet-stream")
        return Payload(response.content, media_type, kept)

    # Indicators chooses SDMX-ML, SDMX-JSON or CSV by Accept: one cached answer per choice
    # (and per language: the cache key has it).
    return await cached(request, reads, compute, by_accept=True)


@router.get(
    "/dhis2/{rest:path}",
    summary="DHIS2-style reads of the indicators service (forwarded, cached)",
    responses={
        200: {
            "description": "The indicators service's answer as it was: JSON, or CSV for "
            "`dataValueSets.csv` and `format=csv`.",
            "content": {
                "application/json": {"example": {"dataValues": []}},
                "text/csv": {
                    "example": "dataelement,period,orgunit,catoptcombo,attroptcombo,value,"
                    "storedby,lastupdated,comment,followup\n"
                },
            },
        },
        # 413 and 422: the indicators service's answers to a query over its export cap or
        # with a bad parameter, passed on.
        **problem_responses(400, 401, 403, 404, 413, 422, 429, 502, 504),
    },
)
async def dhis2(
    request: Request,
    reads: IndicatorsReader,
    rest: Annotated[str, Path(max_length=1000, examples=["api/dataValueSets"])],
) -> Response:
    return await _forward("dhis2", rest, request, reads)
