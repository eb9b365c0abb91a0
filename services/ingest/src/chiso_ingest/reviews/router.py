"""Reviews: POST/GET /v1/documents/{id}/reviews, GET /v1/reviews/queue and /export."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from chiso_ingest.db.models import Review
from chiso_ingest.deps import SessionDep, SettingsDep
from chiso_ingest.documents.router import DocumentId
from chiso_ingest.paging import page_size
from chiso_ingest.reviews import service
from chiso_ingest.reviews.schemas import (
    QueueItem,
    ReviewHistory,
    ReviewIn,
    ReviewOut,
    ReviewQueue,
)
from chiso_shared.errors import problem_responses
from chiso_shared.facts import Fact

router = APIRouter(prefix="/v1", tags=["reviews"])
NDJSON = "application/x-ndjson"
EXPORT_EXAMPLE = (
    '{"doc": "thanh-hoa-2023.txt", "start": 1170, "end": 1179, "text": "2.980.000", '
    '"value": 2990000, "unit": "count", "item": "thuê bao", "role": "level", "basis": null, '
    '"of": null, "max": null, "period": "2023", "status": "estimate", '
    '"indicator": "telecom.subscribers.total", "scope": "VN-38", '
    '"label": "Tổng số thuê bao trên toàn mạng", "doubts": [], "confidence": 1.0}\n'
)
OptionalDocumentId = Annotated[
    str | None,
    Query(max_length=36, examples=["2f0c3e1a-7d4b-4c55-9a43-1b2f5e6d7c8a"]),
]


def to_out(review: Review) -> ReviewOut:
    return ReviewOut.model_validate(
        {
            "id": review.id,
            "document_id": review.document_id,
            "action": review.action,
            "start": review.start,
            "end": review.end,
            "reviewer": review.reviewer,
            "reviewed_at": review.reviewed_at,
            "note": review.note,
            "before": review.before,
            "after": review.fact,
        }
    )


@router.post(
    "/documents/{document_id}/reviews",
    status_code=201,
    response_model=ReviewOut,
    summary="Accept, correct or reject the fact at a span, or add a fact the extractor missed",
    description="The review stands over what any extractor version reads at the span, and "
    "goes to indicators (which makes the reviewed value current) through the outbox.",
    responses=problem_responses(404, 409, 422),
)
async def post_review(session: SessionDep, document_id: DocumentId, body: ReviewIn) -> ReviewOut:
    review = await service.record(session, document_id, body)
    return to_out(review)


@router.get(
    "/documents/{document_id}/reviews",
    response_model=ReviewHistory,
    summary="Every review of a document, oldest first",
    responses=problem_responses(404),
)
async def get_reviews(session: SessionDep, document_id: DocumentId) -> ReviewHistory:
    reviews = await service.history(session, document_id)
    return ReviewHistory(document_id=document_id, items=[to_out(review) for review in reviews])


@router.get(
    "/reviews/queue",
    response_model=ReviewQueue,
    summary="Facts no one has reviewed yet, most doubtful first",
    responses=problem_responses(400, 422),
)
async def get_queue(
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, examples=[50])] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    scope: Annotated[
        str | None,
        Query(
            pattern=r"^(VN(-\d{2})?|sub)$",
            description="Facts of this area, or of documents filed for it.",
            examples=["VN-38"],
        ),
    ] = None,
    document_id: OptionalDocumentId = None,
) -> ReviewQueue:
    wanted = service.QueueFilter(scope=scope, document_id=document_id)
    size = page_size(limit, settings)
    items, next_cursor = await service.queue(session, wanted, limit=size, cursor=cursor)
    return ReviewQueue(
        items=[
            QueueItem(document_id=doc, filename=name, fact=Fact.model_validate(data))
            for doc, name, data in items
        ],
        next_cursor=next_cursor,
    )


@router.get(
    "/reviews/export",
    response_class=Response,
    summary="The reviewed facts as GUIDELINE JSONL (one fact per line)",
    description="The facts people accepted, corrected or added and that still stand, with "
    "`doc` the document's file name and the GUIDELINE's fields in its order.",
    responses={200: {"content": {NDJSON: {"example": EXPORT_EXAMPLE}}}, **problem_responses(404)},
)
async def export(session: SessionDep, document_id: OptionalDocumentId = None) -> Response:
    rows = await service.exported(session, document_id)
    lines = (
        json.dumps(service.guideline_line(fact, filename), ensure_ascii=False) + "\n"
        for fact, filename in rows
    )
    return Response(
        "".join(lines).encode(),
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="reviewed-facts.jsonl"'},
    )
