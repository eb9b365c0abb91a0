"""Forwarding a read to the indicators service, as it answered it, through the response cache:
the standards' routes (SDMX in `views/sdmx.py`, DHIS2 in `views/dhis2.py`) share it."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from chiso_gateway.cache import Payload
from chiso_gateway.deps import Reads
from chiso_gateway.respond import cached
from chiso_gateway.upstream import upstream_path

# Accept and Accept-Language choose the representation (SDMX-ML, SDMX-JSON, CSV; the names'
# language), and the cache keys on both.
PASSED_HEADERS = ("accept", "accept-language")
RETURNED_HEADERS = ("x-next-cursor", "content-disposition")


async def forward(prefix: str, rest: str, request: Request, reads: Reads) -> Response:
    """GET `/{prefix}/{rest}` of indicators with the caller's query, cached per Accept."""
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
