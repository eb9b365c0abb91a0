"""Accepting documents: one row per distinct normalised text, and a queued extraction job."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_ingest.db.models import Document, Job, StoredFact
from chiso_ingest.documents.schemas import DocumentMetadata, DocumentOut, JobState
from chiso_ingest.formats import Parsed
from chiso_shared.db import utcnow
from chiso_shared.errors import BadRequest, FieldError, NotFound
from chiso_shared.pagination import decode_cursor, encode_cursor
from chiso_shared.times import as_utc
from chiso_shared.tracing import current_trace_context


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def accept(
    session: AsyncSession,
    *,
    parsed: Parsed,
    filename: str,
    media_type: str,
    size_bytes: int,
    metadata: DocumentMetadata,
) -> tuple[Document, bool]:
    """The stored document for this text, and whether it was already there."""
    text = parsed.text
    digest = content_hash(text)
    existing = await session.scalar(select(Document).filter_by(content_hash=digest))
    if existing is not None:
        return existing, True
    document = Document(
        id=str(uuid.uuid4()),
        content_hash=digest,
        filename=filename,
        media_type=media_type,
        size_bytes=size_bytes,
        text=text,
        encoding=parsed.encoding,
        layout=[region.as_dict() for region in parsed.regions] or None,
        title=metadata.title,
        source_url=metadata.source_url,
        published=metadata.published,
        scope=metadata.scope,
        issuer=metadata.issuer,
        uploaded_by=metadata.uploaded_by,
        status="queued",
    )
    try:
        async with session.begin_nested():
            session.add(document)
            await session.flush()
            session.add(Job(document_id=document.id, trace_context=current_trace_context()))
            await session.flush()
    except IntegrityError:
        # The same text arrived concurrently and the other request won the insert.
        winner = await session.scalar(select(Document).filter_by(content_hash=digest))
        if winner is None:
            raise
        return winner, True
    return document, False


async def get(session: AsyncSession, document_id: str) -> Document:
    document = await session.get(Document, document_id)
    if document is None:
        raise NotFound(f"No document with id {document_id!r}.", code="ingest.unknown_document")
    return document


async def lock(session: AsyncSession, document_id: str) -> Document:
    """The document, locked until the transaction ends (404 if there is none).

    Reviews and the worker's diff both read the document's facts and reviews and write the
    differences to the outbox; a write to the document row first (a row lock on PostgreSQL,
    the write lock on SQLite) makes them take turns, each reading what the other committed."""
    locked = await session.execute(
        update(Document).where(Document.id == document_id).values(updated_at=utcnow())
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(
            f"Không có tài liệu mã {document_id!r}. / No document with id {document_id!r}.",
            code="ingest.unknown_document",
        )
    document = await session.get(Document, document_id, populate_existing=True)
    assert document is not None
    return document


async def facts_of(session: AsyncSession, document: Document) -> list[StoredFact]:
    """The facts the document's current extractor version read (no review applied)."""
    query = (
        select(StoredFact)
        .filter_by(document_id=document.id, extractor_version=document.extractor_version)
        .order_by(StoredFact.start, StoredFact.id)
    )
    return list((await session.scalars(query)).all())


async def latest_job(
    session: AsyncSession, document: Document, max_attempts: int
) -> JobState | None:
    job = await session.scalar(
        select(Job).filter_by(document_id=document.id).order_by(Job.id.desc()).limit(1)
    )
    if job is None:
        return None
    return JobState(
        status=job.status,  # the column's check constraint keeps it to the four states
        attempts=job.attempts,
        max_attempts=max_attempts,
        last_error=job.last_error,
    )


def to_out(document: Document, job: JobState | None = None) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        filename=document.filename,
        media_type=document.media_type,
        encoding=document.encoding,
        size_bytes=document.size_bytes,
        chars=len(document.text),
        title=document.title,
        source_url=document.source_url,
        published=document.published,
        scope=document.scope,
        issuer=document.issuer,
        status=document.status,
        error=document.error,
        extractor_version=document.extractor_version,
        fact_count=document.fact_count,
        uploaded_by=document.uploaded_by,
        created_at=document.created_at,
        updated_at=document.updated_at,
        job=job,
    )


REEXTRACTABLE = ("extracted", "delivered", "failed")


async def reextract(
    session: AsyncSession, version: str, document_id: str | None = None
) -> list[str]:
    """Queue every document (or the one given) that an older extractor version read.

    The worker then delivers only the differences: facts the new version finds that the old
    one did not, and the withdrawal of facts the old one found that the new one does not.
    """
    query = select(Document).where(
        Document.status.in_(REEXTRACTABLE),
        or_(Document.extractor_version.is_(None), Document.extractor_version != version),
    )
    if document_id is not None:
        query = query.where(Document.id == document_id)
    documents = list((await session.scalars(query.order_by(Document.created_at))).all())
    for document in documents:
        document.status, document.error, document.updated_at = "queued", None, utcnow()
        session.add(Job(document_id=document.id, trace_context=current_trace_context()))
    await session.flush()
    return [document.id for document in documents]


async def newest(
    session: AsyncSession, *, limit: int, cursor: str | None, status: str | None
) -> tuple[list[Document], str | None]:
    """A page of documents, newest first, and the cursor of the next page."""
    query = select(Document).order_by(Document.created_at.desc(), Document.id.desc())
    if status is not None:
        query = query.where(Document.status == status)
    if cursor:
        created, document_id = _position(cursor)
        query = query.where(
            or_(
                Document.created_at < created,
                and_(Document.created_at == created, Document.id < document_id),
            )
        )
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.created_at.isoformat(), last.id])
    return rows[:limit], next_cursor


def _position(cursor: str) -> tuple[datetime, str]:
    created, document_id = decode_cursor(cursor, kinds=(str, str), code="ingest.bad_cursor")
    return cursor_time(created), document_id


def cursor_time(text: str) -> datetime:
    """A time this service wrote into a cursor (ISO, with its offset), or a 400: a cursor is
    client input."""
    try:
        when = datetime.fromisoformat(text)
        if when.tzinfo is not None:
            return as_utc(when)
    except ValueError:
        pass
    raise bad_cursor()


def bad_cursor() -> BadRequest:
    return BadRequest(
        "Con trỏ trang không do dịch vụ này cấp. / The cursor is not one this service issued.",
        code="ingest.bad_cursor",
        errors=[FieldError(field="query.cursor", message="invalid cursor")],
    )
