"""/sdmx/...: the indicators service's SDMX reads, forwarded and cached (DHIS2: `dhis2.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from chiso_gateway.deps import IndicatorsReader
from chiso_gateway.forwarding import forward as _forward
from chiso_shared.errors import problem_responses

router = APIRouter(tags=["standards"])
Rest = Annotated[str, Path(max_length=1000, examples=["2.1/data/CHISO,DF_ICT,1.0/A.VN-38"])]
# What the indicators service answers under /sdmx: structures, and data in the format negotiated.
SDMX_MEDIA_TYPES = (
    "application/vnd.sdmx.genericdata+xml;version=2.1",
    "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
    "application/vnd.sdmx.data+json;version=1.0.0",
    "application/vnd.sdmx.data+csv;version=1.0.0",
    "application/vnd.sdmx.structure+xml; version=2.1",
)


@router.get(
    "/sdmx/{rest:path}",
    summary="SDMX 2.1 REST reads of the indicators service (forwarded, cached)",
    responses={
        200: {
            "description": "The indicators service's answer as it was, in the media type it chose.",
            "content": {
                media: (
                    {"example": "<message:GenericData>...</message:GenericData>"}
                    if "genericdata" in media
                    else {}
                )
                for media in SDMX_MEDIA_TYPES
            },
        },
        # 400, 406, 413 and 422: the indicators service's answers (a bad key, an unsupported
        # format, a query over its export cap, a bad parameter), passed on.
        **problem_responses(400, 401, 403, 404, 406, 413, 422, 429, 502, 504),
    },
)
async def sdmx(
    request: Request,
    reads: IndicatorsReader,
    rest: Rest,
) -> Response:
    return await _forward("sdmx", rest, request, reads)
