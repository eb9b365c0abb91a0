"""Reviews of extracted facts (scope `facts:review`), forwarded to ingest.

The reviewer is the calling client, whatever the body says; each review is audited with its
document and review id (the audit row's `subject`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from chiso_gateway import quality
from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import IndicatorsDep, IngestDep, SettingsDep, require
from chiso_gateway.envelope import Envelope, example
from chiso_gateway.people import people
from chiso_gateway.upstream import upstream_path
from chiso_gateway.views.documents import DocumentId, paged
from chiso_gateway.views.quality import queue_flags
from chiso_shared.catalogue import resolve_area, scope_of
from chiso_shared.errors import FieldError, Unprocessable, problem_responses
from chiso_shared.facts import FACT_EXAMPLE
from chiso_shared.quality import FLAG_EXAMPLE

router = APIRouter(prefix="/v1", tags=["reviews"])
SUB_PROVINCIAL = "sub"  # a fact below a province: the extraction contract's own scope value
Reviewer = Annotated[Principal, Depends(require("facts:review"))]
NDJSON = "application/x-ndjson"

REVIEW_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
    "action": "correct",
    "start": 1170,
    "end": 1179,
    "reviewer": "ch_3f9a1c",
    "reviewed_at": "2026-12-07T09:30:00Z",
    "note": "Số liệu đúng theo phụ lục 2.",
    "before": FACT_EXAMPLE,
    "after": {
        **FACT_EXAMPLE,
        "value": 2990000,
        "doubts": [],
        "confidence": 1.0,
        "review": {"action": "correct", "by": "ch_3f9a1c", "at": "2026-12-07T09:30:00Z"},
    },
}

PEOPLE = {"ch_3f9a1c": "Nguyễn Văn An"}


class ReviewRequest(BaseModel):
    """A review as a client sends it; the gateway adds the reviewer (the client's id)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"action": "correct", "start": 1170, "end": 1179, "changes": {"value": 2990000}},
                {"action": "accept", "start": 1170, "end": 1179},
                {
                    "action": "reject",
                    "start": 1170,
                    "end": 1179,
                    "note": "Số thứ tự, không phải số liệu.",
                },
                {
                    "action": "add",
                    "start": 2040,
                    "end": 2043,
                    "fact": {"value": 310, "unit": "count", "period": "2023"},
                },
            ]
        }
    )

    action: Literal["accept", "correct", "reject", "add"] = Field(
        description="accept the fact at `start`, correct fields of it (`changes`), reject it, "
        "or add a fact the extractor missed at `start`..`end` (`fact`: value, unit, period "
        "required)."
    )
    start: int = Field(ge=0, description="The span's start, an offset into the document text.")
    end: int = Field(ge=0, description="The span's end (exclusive).")
    changes: dict[str, Any] | None = Field(
        default=None,
        description="For correct: any of value, unit, role, basis, of, max, period, status, "
        "indicator, scope, item, label.",
    )
    fact: dict[str, Any] | None = Field(default=None, description="For add: the fact's fields.")
    note: str | None = Field(default=None, max_length=2000)


class ReviewMade(Envelope[dict[str, Any]]):
    """A review as ingest recorded it, with the fact before and after."""


@router.post(
    "/documents/{document_id}/reviews",
    status_code=201,
    response_model=ReviewMade,
    summary="Accept, correct or reject a fact, or add one the extractor missed",
    description="The reviewed fact wins over any machine reading of the value and survives "
    "re-extraction; indicators serves it with `reviewed_by`. Needs `facts:review`. "
    "`meta.people` maps the client ids in the answer (the reviewer, an earlier reviewer in "
    "`before`) to their names.",
    responses={
        201: {
            "content": {
                "application/json": {
                    "example": {"data": REVIEW_EXAMPLE, "meta": {"people": PEOPLE}, "links": {}}
                }
            }
        },
        **problem_responses(400, 401, 403, 404, 409, 422, 429, 502, 504),
    },
)
async def post_review(
    request: Request,
    ingest: IngestDep,
    principal: Reviewer,
    document_id: DocumentId,
    body: ReviewRequest,
) -> Envelope[dict[str, Any]]:
    subject = f"document:{document_id}"
    request.state.audit_subject = subject  # a refused review is audited with its document
    sent = {**body.model_dump(mode="json", exclude_unset=True), "reviewer": principal.client_id}
    path = upstream_path("v1", "documents", document_id, "reviews")
    review = (await ingest.request("POST", path, json=sent)).json()
    request.state.audit_subject = f"{subject} review:{review['id']}"
    return Envelope(
        data=review,
        meta={"people": await people(request, review)},
        links={"history": str(request.url_for("review_history", document_id=document_id))},
    )


class ReviewHistory(Envelope[list[dict[str, Any]]]):
    """Every review of a document, oldest first."""


@router.get(
    "/documents/{document_id}/reviews",
    response_model=ReviewHistory,
    summary="Every review of a document, oldest first",
    description="`meta.people` maps the reviewers' client ids to their names.",
    responses={
        **example({"data": [REVIEW_EXAMPLE], "meta": {"count": 1, "people": PEOPLE}, "links": {}}),
        **problem_responses(400, 401, 403, 404, 429, 502, 504),
    },
)
async def review_history(
    request: Request, ingest: IngestDep, _principal: Reviewer, document_id: DocumentId
) -> Envelope[list[dict[str, Any]]]:
    path = upstream_path("v1", "documents", document_id, "reviews")
    items = (await ingest.request("GET", path)).json()["items"]
    meta = {"count": len(items), "people": await people(request, items)}
    return Envelope(data=items, meta=meta, links={"self": str(request.url)})


QUEUE_EXAMPLE = {
    "data": [
        {
            "kind": "quality",
            "flag": FLAG_EXAMPLE,
            "facts": [
                {
                    "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                    "filename": "thanh-hoa-2023.txt",
                    "fact": FACT_EXAMPLE,
                    "observation_id": 5,
                    "part": "stated",
                }
            ],
        },
        {
            "kind": "fact",
            "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
            "filename": "thanh-hoa-2023.txt",
            "fact": FACT_EXAMPLE,
        },
    ],
    "meta": {"count": 2, "next_cursor": None, "flags": 1, "people": {}},
    "links": {"self": "https://api.example/v1/reviews/queue?scope=38", "next": None},
}
OptionalDocument = Annotated[
    str | None, Query(max_length=36, examples=["6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10"])
]


class ReviewQueue(Envelope[list[dict[str, Any]]]):
    """A page of the review queue: flagged figures first, then unreviewed facts."""


def fact_scope(value: str | None) -> str | None:
    """The facts' `scope` (the extraction contract's `VN-38`) a public area filter names;
    422 for one that names no area."""
    if value is None or value == SUB_PROVINCIAL:
        return value
    code = resolve_area(value)
    if code is None:
        raise Unprocessable(
            f"{value[:20]!r} is not an area code (38, VN, iso:VN-21, sub). / {value[:20]!r} "
            "không phải mã địa bàn (38, VN, iso:VN-21, sub).",
            code="gateway.invalid",
            errors=[FieldError(field="query.scope", message="not an area code")],
        )
    return scope_of(code)


@router.get(
    "/reviews/queue",
    response_model=ReviewQueue,
    summary="What needs a reviewer: flagged figures first, then facts no one has reviewed",
    description="The first page (no `cursor`) starts with the open data-quality flags of the "
    "caller's scope (`scope`, else the province of the client's agency), at most "
    "QUALITY_QUEUE_MAX, each `{kind: quality, flag, facts}` with the ingest facts its figures "
    "were read from (`observation_id` says which figure each is); `meta.flags` counts the open "
    "flags in that scope. Then the unreviewed facts, `kind: fact`, lowest confidence first, "
    "then most doubts, then the newest document, then the span's start (a fact a flagged "
    "item already shows is left out). `scope` keeps the facts of an area and of the "
    "documents filed for it. When indicators cannot be asked, the facts still come, with "
    "`meta.quality_unavailable: true`.",
    responses={**example(QUEUE_EXAMPLE), **problem_responses(400, 401, 403, 422, 429, 502, 504)},
)
async def review_queue(
    request: Request,
    ingest: IngestDep,
    indicators: IndicatorsDep,
    settings: SettingsDep,
    principal: Reviewer,
    limit: Annotated[int | None, Query(ge=1, le=500, examples=[50])] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    scope: Annotated[
        str | None,
        Query(
            max_length=16,
            description="Facts of this area (`38`, `VN`, `iso:VN-21`) or `sub` (below a "
            "province), and of the documents filed for it.",
            examples=["38"],
        ),
    ] = None,
    document_id: OptionalDocument = None,
) -> Envelope[list[dict[str, Any]]]:
    params = {
        "limit": limit,
        "cursor": cursor,
        "scope": fact_scope(scope),
        "document_id": document_id,
    }
    given = {name: value for name, value in params.items() if value is not None}
    facts = ingest.request("GET", "/v1/reviews/queue", params=given)
    if cursor is not None:  # a later page: the facts alone
        page = paged(request, (await facts).json())
        page.data = quality.fact_items(page.data, set())
        return page
    flags = queue_flags(
        indicators,
        ingest,
        principal,
        most=settings.quality_queue_max,
        scope=scope,
        document_id=document_id,
    )
    response, flagged = await asyncio.gather(facts, flags)
    page = paged(request, response.json())
    page.data = flagged.items + quality.fact_items(page.data, quality.spans_of(flagged.items))
    page.meta["count"] = len(page.data)
    page.meta["flags"] = flagged.count
    if flagged.unavailable:
        page.meta["quality_unavailable"] = True
    page.meta["people"] = await people(request, flagged.items)
    return page


@router.get(
    "/reviews/export",
    summary="The reviewed facts as GUIDELINE JSONL, one fact per line",
    description="Facts people accepted, corrected or added and that still stand; `doc` is the "
    "document's file name. A file (`application/x-ndjson`), not an envelope.",
    response_class=Response,
    responses={
        200: {
            "content": {
                NDJSON: {
                    "example": '{"doc": "thanh-hoa-2023.txt", "start": 1170, "end": 1179, '
                    '"text": "2.980.000", "value": 2990000, "unit": "count", ...}\n'
                }
            }
        },
        **problem_responses(400, 401, 403, 404, 429, 502, 504),
    },
)
async def review_export(
    ingest: IngestDep, _principal: Reviewer, document_id: OptionalDocument = None
) -> Response:
    params = {} if document_id is None else {"document_id": document_id}
    response = await ingest.request("GET", "/v1/reviews/export", params=params)
    return Response(
        response.content,
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="reviewed-facts.jsonl"'},
    )
