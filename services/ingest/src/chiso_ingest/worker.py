"""The worker: extract queued documents, then deliver their facts through the outbox.

Both loops read durable tables, so a crash or restart loses nothing: a claimed job whose lease
runs out is claimed again, and an outbox row stays pending until indicators acknowledges it.
Delivery carries an idempotency key per batch, so a batch sent twice is imported once.

Each job and outbox row keeps the W3C trace context it was written in: extraction runs in a
span whose parent is the upload's (or re-extraction's) request, each outbox row keeps the
extraction's (or the review's) context, and its delivery runs in a span under that one, so
indicators' import is in the trace of the request that brought the document.

Several workers (ingest replicas) may share one database. A claim is a compare-and-set on the
job's lease (`available_at`), so of two workers that read the same job only one leases it; a
worker whose lease ran out before it finished (and another claimed the job) stores nothing:
its results are written only while the job is still leased to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from opentelemetry.trace import Span, StatusCode
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_ingest import extraction
from chiso_ingest.bounded_extraction import ExtractionRefused, extract_in_sandbox
from chiso_ingest.db.models import Document, Job, OutboxMessage, StoredFact
from chiso_ingest.documents.service import lock
from chiso_ingest.effective import document_meta, effective, source_key
from chiso_ingest.formats import Sandbox
from chiso_ingest.metrics import IngestMetrics
from chiso_ingest.reviews.service import current_reviews
from chiso_ingest.settings import Settings
from chiso_shared.db import utcnow
from chiso_shared.facts import Fact
from chiso_shared.tracing import Tracing, current_trace_context

logger = logging.getLogger("chiso.ingest.worker")


def backoff(attempt: int, settings: Settings) -> float:
    """Exponential backoff with full jitter."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempt - 1))
    return random.uniform(settings.retry_base_seconds / 2, ceiling)


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        extractor: Sandbox,
        metrics: IngestMetrics,
        tracing: Tracing | None = None,
        name: str | None = None,
    ) -> None:
        self.metrics = metrics
        # how this worker signs its claims (`jobs.claimed_by`): a pod's host name is its name
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.sessionmaker = sessionmaker
        self.client = client
        self.settings = settings
        self.extractor = extractor  # where extraction runs: a child under memory/CPU limits
        self.tracing = tracing or Tracing("ingest")
        self.wake = asyncio.Event()
        self.stopping = False

    async def run(self) -> None:
        await asyncio.gather(self._loop(self.extract_next), self._loop(self.deliver_next))

    def stop(self) -> None:
        """Finish the current step, then return from `run` (a job cut off is leased again)."""
        self.stopping = True
        self.wake.set()

    async def _loop(self, step: Any) -> None:
        while not self.stopping:
            try:
                busy = await step()
            except Exception:  # one bad round must not stop the loop; the row is retried
                logger.exception("worker step failed")
                busy = False
            if not busy and not self.stopping:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.settings.poll_interval)

    # -- extraction ---------------------------------------------------------------------

    async def extract_next(self) -> bool:
        job = await self._claim_job()
        if job is None:
            return False
        attributes: dict[str, str | int] = {
            "chiso.document_id": job.document_id,
            "chiso.job.attempt": job.attempts,
        }
        with self.tracing.span("ingest.extract", job.trace_context, attributes) as span:
            return await self._extract(job, span)

    async def _extract(self, job: Job, span: Span) -> bool:
        async with self.sessionmaker() as session:
            document = await session.get(Document, job.document_id)
            assert document is not None
            document.status, document.updated_at = "extracting", utcnow()
            await session.commit()
            text, name = document.text, document.filename
            published, scope = document.published, document.scope
        limit = extraction.fact_limit(
            len(text), self.settings.max_facts, self.settings.max_facts_per_1000_chars
        )
        started = time.perf_counter()
        try:
            facts = await extract_in_sandbox(
                self.extractor, text, doc=name, published=published, scope=scope, max_facts=limit
            )
        except ExtractionRefused as exc:
            self._extraction_ended(started, "refused")
            logger.warning(
                "extraction refused", extra={"document_id": job.document_id, "reason": exc.reason}
            )
            span.set_status(StatusCode.ERROR, exc.reason[:200])
            await self._fail_for_good(job, exc.reason)
            return True
        except Exception as exc:
            self._extraction_ended(started, "error")
            logger.exception("extraction failed", extra={"document_id": job.document_id})
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, type(exc).__name__)
            await self._fail_job(job, f"extraction failed: {type(exc).__name__}: {exc}")
            return True
        self._extraction_ended(started, "extracted")
        self.metrics.facts_per_document.observe(len(facts))
        span.set_attribute("chiso.fact_count", len(facts))
        if await self._store(job, facts):
            self.wake.set()
        return True

    def _extraction_ended(self, started: float, outcome: str) -> None:
        self.metrics.extraction_seconds.observe(time.perf_counter() - started)
        self.metrics.job_attempts.labels(outcome).inc()

    async def _claim_job(self) -> Job | None:
        """The next job due, leased to this worker; a job already claimed `max_job_attempts`
        times goes to the dead letter instead, so one document that kills its worker (a
        `kill -9`, an OOM kill) cannot crash-loop the pod.

        A worker that loses the race for a job to another replica tries the next one at
        once: giving up until the next poll would leave it idle while jobs wait."""
        while True:
            now = utcnow()
            async with self.sessionmaker() as session:
                candidate = await session.scalar(
                    select(Job)
                    .where(Job.status.in_(("queued", "running")), Job.available_at <= now)
                    .order_by(Job.id)
                    .limit(1)
                )
                if candidate is None:
                    return None
                if candidate.attempts < self.settings.max_job_attempts:
                    leased = await self._lease(session, candidate, now)
                    if leased is not None:
                        return leased
                    continue  # another worker leased it first
                await self._dead_letter(session, candidate)

    async def _dead_letter(self, session: AsyncSession, job: Job) -> None:
        """Fail a job whose every attempt ended without a result (its worker died)."""
        reason = dead_letter_reason(job.attempts, job.last_error)
        failed = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.available_at == job.available_at)
            .values(status="failed", last_error=reason)
        )
        if failed.rowcount == 1:  # type: ignore[attr-defined]
            self.metrics.jobs_failed.labels("dead_letter").inc()
            await session.execute(
                update(Document)
                .where(Document.id == job.document_id)
                .values(status="failed", error=reason, updated_at=utcnow())
            )
            logger.error(
                "job dead-lettered",
                extra={"document_id": job.document_id, "attempts": job.attempts},
            )
        await session.commit()

    async def _lease(self, session: AsyncSession, candidate: Job, now: datetime) -> Job | None:
        lease = now + timedelta(seconds=self.settings.job_lease_seconds)
        claimed = await session.execute(
            update(Job)
            .where(Job.id == candidate.id, Job.available_at == candidate.available_at)
            .values(
                status="running",
                available_at=lease,
                attempts=Job.attempts + 1,
                claimed_by=self.name,
            )
        )
        await session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await session.refresh(candidate)
        return candidate

    def _still_leased(self, job: Job) -> Any:
        """The condition that `job` is still this worker's: running under the lease it took.
        Once the lease has run out and another worker claimed the job, `available_at` (and
        `claimed_by`) changed, and this worker's late results must not be written too."""
        return (
            (Job.id == job.id)
            & (Job.status == "running")
            & (Job.available_at == job.available_at)
            & (Job.claimed_by == self.name)
        )

    def _lease_lost(self, job: Job) -> None:
        logger.warning(
            "job lease lost: another worker claimed the job; this worker's result is dropped",
            extra={"document_id": job.document_id, "job_id": job.id},
        )

    async def _store(self, job: Job, facts: Sequence[Fact]) -> bool:
        """Facts, outbox rows, document and job status in one transaction; False (nothing
        stored) when the job is no longer leased to this worker."""
        version = extraction.EXTRACTOR_VERSION
        async with self.sessionmaker() as session:
            # First, so a worker that lost its lease writes nothing and the job row stays
            # locked against another worker finishing it in the meantime.
            done = await session.execute(
                update(Job).where(self._still_leased(job)).values(status="done")
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                self._lease_lost(job)
                return False
            # Locked, so a review of this document waits for the diff below, or the diff
            # reads the review it made: either way indicators ends with the same facts.
            document = await lock(session, job.document_id)
            reviews = await current_reviews(session, document.id)
            earlier = await _earlier_facts(session, document, version)
            found = [fact.to_jsonl_dict() for fact in facts]
            for fact, data in zip(facts, found, strict=True):
                session.add(
                    StoredFact(
                        document_id=document.id,
                        extractor_version=version,
                        start=fact.start,
                        data=data,
                        confidence=fact.confidence,
                        doubt_count=len(fact.doubts),
                        scope=fact.scope,
                    )
                )
            # A re-extraction sends only the differences between the effective facts before
            # and after (the facts with the reviews applied, so a reviewed span is untouched):
            # the facts the earlier version did not find, and the withdrawal of those it found
            # that this one does not.
            held = {source_key(data): data for data in effective(earlier, reviews)}
            now = {source_key(data): data for data in effective(found, reviews)}
            added = [data for key, data in now.items() if key not in held]
            dropped = [data for key, data in held.items() if key not in now]
            self._outbox(session, document, version, added, dropped)
            document.extractor_version = version
            document.fact_count = len(facts)
            document.status = "extracted" if added or dropped else "delivered"
            document.error, document.updated_at = None, utcnow()
            await session.commit()
        return True

    def _outbox(
        self,
        session: AsyncSession,
        document: Document,
        version: str,
        added: list[dict[str, Any]],
        dropped: list[dict[str, Any]],
    ) -> None:
        meta = document_meta(document, version)
        size = self.settings.delivery_batch_size
        for kind, field, items in (("", "facts", added), ("w", "withdrawn", dropped)):
            for index in range(0, len(items), size):
                payload = {"documents": [meta], "facts": [], field: items[index : index + size]}
                session.add(
                    OutboxMessage(
                        idempotency_key=f"{document.id}:{version}:{kind}{index // size}",
                        document_id=document.id,
                        payload=payload,
                        trace_context=current_trace_context(),  # the extraction's span
                    )
                )

    async def _fail_for_good(self, job: Job, reason: str) -> None:
        """A document over a limit: it fails now, with the reason; nothing is stored."""
        async with self.sessionmaker() as session:
            failed = await session.execute(
                update(Job)
                .where(self._still_leased(job))
                .values(status="failed", last_error=reason)
            )
            if failed.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                self._lease_lost(job)
                return
            await session.execute(
                update(Document)
                .where(Document.id == job.document_id)
                .values(status="failed", error=reason, updated_at=utcnow())
            )
            await session.commit()
        self.metrics.jobs_failed.labels("refused").inc()

    async def _fail_job(self, job: Job, reason: str) -> None:
        async with self.sessionmaker() as session:
            last = job.attempts >= self.settings.max_job_attempts
            if last:
                values: dict[str, Any] = {"status": "failed", "last_error": reason}
            else:
                delay = timedelta(seconds=backoff(job.attempts, self.settings))
                values = {
                    "status": "queued",
                    "last_error": reason,
                    "available_at": utcnow() + delay,
                }
            failed = await session.execute(
                update(Job).where(self._still_leased(job)).values(**values)
            )
            if failed.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()
                self._lease_lost(job)
                return
            if last:
                self.metrics.jobs_failed.labels("attempts").inc()
                document = await session.get(Document, job.document_id)
                if document is not None:
                    document.status, document.error = "failed", reason
                    document.updated_at = utcnow()
            await session.commit()

    # -- delivery -----------------------------------------------------------------------

    async def deliver_next(self) -> bool:
        message = await self._claim_message()
        if message is None:
            return False
        attributes: dict[str, str | int] = {
            "chiso.document_id": message.document_id,
            "chiso.outbox.id": message.id,
            "chiso.outbox.attempt": message.attempts,
        }
        with self.tracing.span("ingest.deliver", message.trace_context, attributes) as span:
            return await self._deliver(message, span)

    async def _deliver(self, message: OutboxMessage, span: Span) -> bool:
        try:
            response = await self.client.post(
                "/v1/facts",
                json=message.payload,
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except httpx.HTTPError as exc:
            span.set_status(StatusCode.ERROR, type(exc).__name__)
            await self._retry(message, f"{type(exc).__name__}: {exc}", _transport_reason(exc))
            return False
        if response.status_code < 300:
            await self._delivered(message)
            self.metrics.deliveries.labels("delivered").inc()
            payload = message.payload
            self.metrics.facts_delivered.inc(
                len(payload.get("facts", [])) + len(payload.get("withdrawn", []))
            )
            return True
        reason = f"indicators answered {response.status_code}: {response.text[:500]}"
        span.set_status(StatusCode.ERROR, f"indicators answered {response.status_code}")
        # 401/403: indicators refused this service's token (a secret being rotated or set
        # wrong), not the facts: keep them and retry until the configuration is fixed.
        if response.status_code >= 500 or response.status_code in (401, 403, 408, 425, 429):
            await self._retry(message, reason, _status_reason(response.status_code))
            return False
        await self._reject(message, reason)
        return True

    async def _claim_message(self) -> OutboxMessage | None:
        """The next outbox row due, leased to this worker (one lost to another replica: the
        next one, at once)."""
        while True:
            now = utcnow()
            async with self.sessionmaker() as session:
                candidate = await session.scalar(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                    .order_by(OutboxMessage.id)
                    .limit(1)
                )
                if candidate is None:
                    return None
                # A lease: if this process dies mid-call, the row is sent again after it.
                lease = now + timedelta(seconds=self.settings.http.read_timeout * 3)
                claimed = await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == candidate.id,
                        OutboxMessage.next_attempt_at == candidate.next_attempt_at,
                    )
                    .values(next_attempt_at=lease, attempts=OutboxMessage.attempts + 1)
                )
                await session.commit()
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    await session.refresh(candidate)
                    return candidate

    async def _delivered(self, message: OutboxMessage) -> None:
        async with self.sessionmaker() as session:
            now = utcnow()
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(status="delivered", delivered_at=now, last_error=None)
            )
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.document_id == message.document_id,
                    or_(OutboxMessage.status == "pending", OutboxMessage.status == "failed"),
                )
            )
            if not pending:
                await session.execute(
                    update(Document)
                    .where(Document.id == message.document_id)
                    .values(status="delivered", updated_at=now)
                )
            await session.commit()

    async def _retry(self, message: OutboxMessage, reason: str, kind: str) -> None:
        self.metrics.deliveries.labels("retry").inc()
        self.metrics.delivery_retries.labels(kind).inc()
        delay = timedelta(seconds=backoff(message.attempts, self.settings))
        logger.warning(
            "delivery failed; will retry",
            extra={"outbox_id": message.id, "attempts": message.attempts, "reason": reason},
        )
        async with self.sessionmaker() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(next_attempt_at=utcnow() + delay, last_error=reason[:2000])
            )
            await session.commit()

    async def _reject(self, message: OutboxMessage, reason: str) -> None:
        logger.error("delivery refused", extra={"outbox_id": message.id, "reason": reason})
        self.metrics.deliveries.labels("rejected").inc()
        async with self.sessionmaker() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(status="failed", last_error=reason[:2000])
            )
            await session.execute(
                update(Document)
                .where(Document.id == message.document_id)
                .values(status="failed", error=reason[:2000], updated_at=utcnow())
            )
            await session.commit()


def _transport_reason(exc: httpx.HTTPError) -> str:
    """The retry reason of a call that got no answer (a label of the retries counter)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "transport"


def _status_reason(status: int) -> str:
    """The retry reason of an answer that asks for one (a label of the retries counter)."""
    if status >= 500:
        return "5xx"
    return "refused" if status in (401, 403) else "throttled"


def dead_letter_reason(attempts: int, last_error: str | None) -> str:
    """Why a job is no longer tried, in Vietnamese and in English."""
    reason = (
        f"Tài liệu đã được xử lý {attempts} lần mà tiến trình trích xuất đều dừng trước khi "
        "xong (bị tắt hoặc hết thời hạn); tài liệu không được thử lại. / "
        f"Extraction was attempted {attempts} times and the worker stopped before finishing "
        "each time (killed, or its lease ran out); the document is not retried."
    )
    if last_error:
        reason += f" Lỗi gần nhất / last error: {last_error[:1000]}"
    return reason


async def _earlier_facts(
    session: AsyncSession, document: Document, version: str
) -> list[dict[str, Any]]:
    """The facts an earlier extractor version stored for this document."""
    if document.extractor_version in (None, version):
        return []
    rows = await session.scalars(
        select(StoredFact.data)
        .where(
            StoredFact.document_id == document.id,
            StoredFact.extractor_version == document.extractor_version,
        )
        .order_by(StoredFact.start, StoredFact.id)
    )
    return list(rows)
