"""Accepting documents: one row per distinct normalised text, and a queued extraction job."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_ingest.db.models import Document, Job, StoredFact
from chiso_ingest.documents.schemas import DocumentMetadata, DocumentOut, JobState
from chiso_ingest.formats import Parsed
from chiso_shared.db import utcnow
from chiso_shared.errors import NotFound


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
        status="queued",
    )
    try:
        async with session.begin_nested():
            session.add(document)
            await session.flush()
            session.add(Job(document_id=document.id))
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


async def facts_of(session: AsyncSession, document: Document) -> list[StoredFact]:
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
        session.add(Job(document_id=document.id))
    await session.flush()
    return [document.id for document in documents]
