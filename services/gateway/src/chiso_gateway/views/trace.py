"""/v1/trace: a served value back to the sentences that reported it."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chiso_gateway import trace
from chiso_gateway.cache import Payload
from chiso_gateway.deps import IndicatorsReader, IngestDep
from chiso_gateway.envelope import Envelope
from chiso_gateway.insights import area_name, indicator_label
from chiso_gateway.people import people
from chiso_gateway.respond import cached, json_payload, language
from chiso_gateway.upstream import Upstream, UpstreamError, upstream_path
from chiso_gateway.views.indicators import AreaCode, all_pages
from chiso_shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/v1", tags=["views"])

SOURCE_EXAMPLE = {
    "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
    "document_name": "thanh-hoa-2023.txt",
    "published": "2023-12-20",
    "extractor_version": "0.8.0",
    "start": 1180,
    "end": 1189,
    "text": "2.980.000",
    "label": "Tổng số thuê bao trên toàn mạng",
    "doubts": [],
    "confidence": 1.0,
    "reviewed_by": None,
    "reviewed_at": None,
    "review_action": None,
    "sentence": {
        "text": "Tổng số thuê bao trên toàn mạng ước đạt 2.980.000 thuê bao, tăng 4,44%.",
        "span_start": 40,
        "span_end": 49,
        "truncated": False,
    },
}
EXAMPLE = {
    "data": {
        "indicator": "telecom.subscribers.total",
        "name": "Tổng số thuê bao điện thoại",
        "unit": "count",
        "area": "38",
        "area_name": "Thanh Hóa",
        "period": "2023",
        "versions": [
            {
                "value": 2980000,
                "of": None,
                "max": None,
                "status": "E",
                "published": "2023-12-20",
                "recorded_at": "2026-12-06T08:00:00Z",
                "current": True,
                "chosen_by": "only",
                "sources": [SOURCE_EXAMPLE],
                "quality": [],
            }
        ],
        "same_value": ["thanh-hoa-2023.txt"],
        "other_value": [],
    },
    "meta": {"truncated": False, "people": {}, "data_revision": 12},
    "links": {"self": "https://api.example/v1/trace?indicator=...&area=38&period=2023"},
}


class ValueTrace(Envelope[dict[str, Any]]):
    """Where a value came from: its versions, documents and sentences."""


@router.get(
    "/trace",
    response_model=ValueTrace,
    summary="Where a value came from: its versions, their documents and sentences",
    description="Every version of one (indicator, area, period) value that stands on a source, "
    "the served (current) one first, each source with the sentence its number was read from; "
    "and which documents report the served value and which another. Sentences are fetched "
    "for at most TRACE_MAX_SOURCES sources (`meta.truncated` says when some were not). "
    "`meta.people` maps the sources' `reviewed_by` client ids to the reviewers' names. "
    "`chosen_by` names the precedence step that made the served version current (reviewed > "
    "actual > provisional > estimate > target; then the later publication; then the value); "
    "`quality` lists the data-quality flags that involve a version.",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        **problem_responses(401, 403, 404, 413, 422, 429, 502, 504),
    },
)
async def trace_value(
    request: Request,
    reads: IndicatorsReader,
    ingest: IngestDep,
    indicator: Annotated[
        str, Query(min_length=1, max_length=200, examples=["telecom.subscribers.total"])
    ],
    area: AreaCode,
    period: Annotated[str, Query(min_length=4, max_length=32, examples=["2023"])],
    measure: Annotated[str, Query(max_length=16, examples=["actual"])] = "actual",
    transformation: Annotated[str, Query(max_length=32, examples=["level"])] = "level",
) -> Response:
    lang = language(request)

    async def compute(current: int | None) -> Payload:
        params = {
            "indicator": indicator,
            "area": area,
            "start_period": period,
            "end_period": period,
            "measure": measure,
            "transformation": transformation,
            "include_history": "true",
            "limit": 1000,
        }
        found = trace.versions(await all_pages(reads.indicators, params), period)
        if not found:
            raise NotFound(
                f"No value of {indicator} for {area} in {period}. / Không có giá trị "
                f"{indicator} của {area} kỳ {period}.",
                code="gateway.no_value",
            )
        most = reads.settings.trace_max_sources
        shown, truncated = await _with_sentences(ingest, found, most)
        name, unit = indicator_label(indicator, lang)
        data = {
            "indicator": indicator,
            "name": name,
            "unit": found[0].get("unit") or unit,
            "area": area,
            "area_name": area_name(area, lang, period),
            "period": period,
            "versions": shown,
            **trace.agreement(shown),
        }
        # The names are cached with the answer: a client renamed in the register shows under
        # its new name once the entry lapses (CACHE_TTL_SECONDS) or the data changes.
        meta = {"truncated": truncated, "people": await people(request, shown)}
        envelope: Envelope[dict[str, Any]] = Envelope(
            data=data, meta=meta, links={"self": str(request.url)}
        )
        return json_payload(envelope, current)

    return await cached(request, reads, compute)


async def _with_sentences(
    ingest: Upstream, found: list[dict[str, Any]], most: int
) -> tuple[list[dict[str, Any]], bool]:
    """The versions as shown, the first `most` sources with their sentence."""
    sources = [source for item in found for source in item["sources"]]
    sentences = await asyncio.gather(*(_sentence(ingest, s) for s in sources[:most]))
    views = [
        {**trace.source_view(source), "sentence": sentences[n] if n < most else None}
        for n, source in enumerate(sources)
    ]
    shown, taken = [], 0
    for item in found:
        count = len(item["sources"])
        shown.append(trace.version_view(item, views[taken : taken + count]))
        taken += count
    return shown, len(sources) > most


async def _sentence(ingest: Upstream, source: dict[str, Any]) -> dict[str, Any] | None:
    """The sentence of a source, or None for a document ingest does not hold (facts posted
    to indicators directly, or a document deleted since)."""
    path = upstream_path("v1", "documents", source["document_id"], "sentence")
    try:
        answer = await ingest.request(
            "GET", path, params={"start": source["start"], "end": source["end"]}
        )
    except UpstreamError as exc:
        if exc.status_code in (404, 422):
            return None
        raise
    body = answer.json()
    return {key: body[key] for key in ("text", "span_start", "span_end", "truncated")}
