"""Reviews in the database: the current review of each span, recording a review with the
outbox message that carries it to indicators, the queue and the export."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chiso_ingest.db.models import Document, OutboxMessage, Review, StoredFact
from chiso_ingest.documents.service import bad_cursor, cursor_time, facts_of, get, lock
from chiso_ingest.effective import document_meta, effective
from chiso_ingest.reviews.rules import reviewed_fact
from chiso_ingest.reviews.schemas import ReviewIn
from chiso_shared.db import utcnow
from chiso_shared.errors import Conflict
from chiso_shared.facts import Fact, ReviewMark
from chiso_shared.pagination import decode_cursor, encode_cursor
from chiso_shared.tracing import current_trace_context


def _is_current() -> ColumnElement[bool]:
    """True for a review no other review supersedes."""
    later = aliased(Review)
    return ~select(later.id).where(later.supersedes == Review.id).exists()


async def current_reviews(session: AsyncSession, document_id: str) -> list[Review]:
    """The current review of each reviewed span of the document."""
    query = (
        select(Review)
        .where(Review.document_id == document_id, _is_current())
        .order_by(Review.start)
    )
    return list((await session.scalars(query)).all())


async def effective_facts(session: AsyncSession, document: Document) -> list[dict[str, Any]]:
    """The document's effective facts (`chiso_ingest.effective`), in start order."""
    machine = [row.data for row in await facts_of(session, document)]
    return effective(machine, await current_reviews(session, document.id))


async def reviewed_counts(session: AsyncSession, document_ids: Sequence[str]) -> dict[str, int]:
    """How many spans of each document have a current review."""
    if not document_ids:
        return {}
    query = (
        select(Review.document_id, func.count())
        .where(Review.document_id.in_(document_ids), _is_current())
        .group_by(Review.document_id)
    )
    return {document_id: int(count) for document_id, count in (await session.execute(query)).all()}


async def record(session: AsyncSession, document_id: str, body: ReviewIn) -> Review:
    """Store a review and, in the same transaction, the outbox message that withdraws the
    effective fact it replaces and sends the one it makes: one message, so indicators
    withdraws and adds in one import."""
    document = await lock(session, document_id)
    reviews = await current_reviews(session, document.id)
    machine = [row.data for row in await facts_of(session, document)]
    replaced = [data for data in effective(machine, reviews) if data["start"] == body.start]
    current = replaced[0] if replaced else None
    now = utcnow()
    mark = _mark(body, now)
    after = reviewed_fact(body, current, text=document.text, filename=document.filename, mark=mark)
    previous = next((review for review in reviews if review.start == body.start), None)
    review = Review(
        document_id=document.id,
        start=body.start,
        end=body.end,
        action=body.action,
        fact=after,
        before=current,
        reviewer=body.reviewer,
        note=body.note,
        reviewed_at=now,
        supersedes=None if previous is None else previous.id,
    )
    session.add(review)
    await _flush(session)
    session.add(
        OutboxMessage(
            idempotency_key=f"{document.id}:review:{review.id}",
            document_id=document.id,
            trace_context=current_trace_context(),  # the review's request
            payload={
                "documents": [document_meta(document, document.extractor_version)],
                "facts": [] if after is None else [after],
                "withdrawn": replaced,
            },
        )
    )
    if document.status == "delivered":
        document.status = "extracted"  # until the review's message is delivered
    await session.flush()
    return review


def _mark(body: ReviewIn, at: datetime) -> ReviewMark | None:
    """The mark the reviewed fact carries; a rejected fact is gone and carries none."""
    if body.action == "reject":
        return None
    return ReviewMark(action=body.action, by=body.reviewer, at=at)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another review of the span won the race for its predecessor (`supersedes` is
        # unique); the document lock makes this rare, the constraint makes it harmless.
        raise Conflict(
            "Dữ kiện này vừa được người khác duyệt; hãy tải lại rồi thử lại. / The fact was "
            "reviewed by someone else just now; reload it and try again.",
            code="ingest.review_conflict",
        ) from exc


async def history(session: AsyncSession, document_id: str) -> list[Review]:
    await get(session, document_id)
    query = select(Review).where(Review.document_id == document_id).order_by(Review.id)
    return list((await session.scalars(query)).all())


async def exported(
    session: AsyncSession, document_id: str | None
) -> list[tuple[dict[str, Any], str]]:
    """The reviewed facts that stand (accepted, corrected, added) with their document's file
    name, documents oldest first, each in start order."""
    query = (
        select(Review.fact, Document.filename)
        .join(Document, Document.id == Review.document_id)
        .where(Review.fact.is_not(None), _is_current())
        .order_by(Document.created_at, Document.id, Review.start)
    )
    if document_id is not None:
        await get(session, document_id)
        query = query.where(Review.document_id == document_id)
    return [(fact, filename) for fact, filename in (await session.execute(query)).all()]


def guideline_line(fact: dict[str, Any], filename: str) -> dict[str, Any]:
    """A reviewed fact as the GUIDELINE's JSONL has it: the document's file name, no mark."""
    parsed = Fact.model_validate(fact).model_copy(update={"doc": filename, "review": None})
    return parsed.to_jsonl_dict()


@dataclass(frozen=True)
class QueueFilter:
    scope: str | None = None
    document_id: str | None = None


# The queue's order, and what its cursor holds at each place: confidence (its repr, exact),
# doubt count, the document's creation time (ISO), document id, span start.
_QUEUE_KINDS: tuple[type[int] | type[str], ...] = (str, int, str, str, int)


async def queue(
    session: AsyncSession, wanted: QueueFilter, *, limit: int, cursor: str | None
) -> tuple[list[tuple[str, str, dict[str, Any]]], str | None]:
    """A page of unreviewed effective facts, most doubtful first, as (document id, file
    name, fact), and the cursor of the next page."""
    query = _queue_query(wanted)
    if cursor:
        query = query.where(_after(_position(cursor)))
    rows = (await session.execute(query.limit(limit + 1))).all()
    page = [(row.document_id, row.filename, row.data) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            [
                repr(last.confidence),
                last.doubt_count,
                last.created_at.isoformat(),
                last.document_id,
                last.start,
            ]
        )
    return page, next_cursor


def _queue_query(wanted: QueueFilter) -> Select[Any]:
    reviewed = (
        select(Review.id)
        .where(Review.document_id == StoredFact.document_id, Review.start == StoredFact.start)
        .exists()
    )
    query = (
        select(
            StoredFact.data,
            StoredFact.confidence,
            StoredFact.doubt_count,
            StoredFact.start,
            StoredFact.document_id,
            Document.filename,
            Document.created_at,
        )
        .join(
            Document,
            and_(
                Document.id == StoredFact.document_id,
                Document.extractor_version == StoredFact.extractor_version,
            ),
        )
        .where(~reviewed)
        .order_by(*_QUEUE_ORDER)
    )
    if wanted.scope is not None:
        # a fact of the area, or any fact of a report filed for it (a national figure in a
        # provincial report is that province's officers' to check)
        query = query.where(or_(StoredFact.scope == wanted.scope, Document.scope == wanted.scope))
    if wanted.document_id is not None:
        query = query.where(StoredFact.document_id == wanted.document_id)
    return query


_QUEUE_ORDER = (
    StoredFact.confidence.asc(),
    StoredFact.doubt_count.desc(),
    Document.created_at.desc(),
    StoredFact.document_id.asc(),
    StoredFact.start.asc(),
)


def _position(cursor: str) -> tuple[float, int, datetime, str, int]:
    confidence, doubts, created, document_id, start = decode_cursor(
        cursor, kinds=_QUEUE_KINDS, code="ingest.bad_cursor"
    )
    try:
        number = float(confidence)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise bad_cursor()
    return number, doubts, cursor_time(created), document_id, start


def _after(position: tuple[float, int, datetime, str, int]) -> ColumnElement[bool]:
    """Rows after `position` in the queue's order (mixed directions, so no row comparison)."""
    columns: list[tuple[Any, Any, bool]] = [
        (StoredFact.confidence, position[0], True),
        (StoredFact.doubt_count, position[1], False),
        (Document.created_at, position[2], False),
        (StoredFact.document_id, position[3], True),
        (StoredFact.start, position[4], True),
    ]
    condition: ColumnElement[bool] = false()
    for column, value, ascending in reversed(columns):
        beyond = column > value if ascending else column < value
        condition = or_(beyond, and_(column == value, condition))
    return condition
