"""The ingest database: documents, the job queue, extracted facts, people's reviews of them
and the delivery outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chiso_shared.db import Base, UtcTimestamp, new_metadata, utcnow
from chiso_shared.tracing import TraceContext


class IngestBase(Base):
    __abstract__ = True
    metadata = new_metadata()


class Traced:
    """The W3C trace context of the request a row's work was asked in (a job's upload or
    re-extraction, an outbox row's extraction or review), so the work done later, in another
    task or process, is part of the same trace. Kept whether or not traces are exported: a
    caller that traces gets its trace carried through."""

    # Version 00, the only one written (`chiso_shared.tracing`), is 55 characters.
    traceparent: Mapped[str | None] = mapped_column(String(55), nullable=True)
    tracestate: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def trace_context(self) -> TraceContext:
        return TraceContext(self.traceparent, self.tracestate)

    @trace_context.setter
    def trace_context(self, value: TraceContext) -> None:
        self.traceparent, self.tracestate = value.traceparent, value.tracestate


# A tracestate means nothing without the traceparent it goes with.
TRACE_CONTEXT_CHECK = "traceparent IS NOT NULL OR tracestate IS NULL"


class Document(IngestBase):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(512))
    media_type: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(32), nullable=True)
    layout: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    title: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    source_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    published: Mapped[str | None] = mapped_column(String(10), nullable=True)
    scope: Mapped[str | None] = mapped_column(String(8), nullable=True)
    issuer: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    extractor_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fact_count: Mapped[int] = mapped_column(Integer, default=0)
    # who sent it: the gateway's client id (set by the gateway, whatever the body says)
    uploaded_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)


class Job(Traced, IngestBase):
    """The durable work queue: one row per document to extract.

    `attempts` counts claims; a job claimed `max_job_attempts` times without finishing (its
    worker died each time) is `failed` from then on: the dead letter, never claimed again.
    `claimed_by` names the worker that claimed it last (host and process id): with several
    replicas, which one ran a job, and a record that no other claimed it meanwhile.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_ready", "status", "available_at"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint(TRACE_CONTEXT_CHECK, name="trace_context"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)


class StoredFact(IngestBase):
    """A fact as the extractor read it (`data`, GUIDELINE JSON); reviews never change it.

    `confidence`, `doubt_count` and `scope` repeat fields of `data` as columns, so the review
    queue is ordered and filtered by the database."""

    __tablename__ = "facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    extractor_version: Mapped[str] = mapped_column(String(64))
    start: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float, default=1.0, server_default=sql_text("1.0"))
    doubt_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    scope: Mapped[str | None] = mapped_column(String(8), nullable=True)


class Review(IngestBase):
    """A person's word on the fact at one span of a document: accept, correct, reject, or add
    one the extractor missed.

    A span is (document, start): no two facts of one extraction share a start. Reviews of a
    span form a chain: each names the review it `supersedes` (unique, so two reviews racing
    for the same predecessor cannot both be stored), and the current review of a span is the
    one no other supersedes. The document's effective facts are its current extractor
    version's facts with the current reviews applied (`chiso_ingest.reviews.effective`).
    """

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_span", "document_id", "start"),
        CheckConstraint('0 <= start AND start <= "end"', name="span"),
        CheckConstraint("action IN ('accept', 'correct', 'reject', 'add')", name="action"),
        # the fact as reviewed, absent exactly when it was rejected
        CheckConstraint("(fact IS NULL) = (action = 'reject')", name="fact"),
        # the effective fact it replaced, absent exactly when it was added
        CheckConstraint("(before IS NULL) = (action = 'add')", name="before"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    fact: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    supersedes: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id"), nullable=True, unique=True
    )


class OutboxMessage(Traced, IngestBase):
    """A batch of facts to deliver to indicators, written in the extraction's transaction."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_ready", "status", "next_attempt_at"),
        CheckConstraint(TRACE_CONTEXT_CHECK, name="trace_context"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcTimestamp(), nullable=True)
