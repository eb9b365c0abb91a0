"""Ingest's own metrics: the queue and the outbox (read from the database at each scrape),
extraction and delivery (counted by the worker)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_ingest import __version__
from chiso_ingest.db.models import Job, OutboxMessage
from chiso_shared.db import utcnow
from chiso_shared.metrics import Metrics

JOB_STATES = ("queued", "running")
OUTBOX_STATES = ("pending", "failed")
# Why a delivery is tried again: no connection, no answer in time, another transport error,
# indicators failed (5xx), refused ingest's service token (401/403), or asked to wait
# (408, 425, 429).
RETRY_REASONS = ("connect", "timeout", "transport", "5xx", "refused", "throttled")
EXTRACTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
FACT_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class IngestMetrics(Metrics):
    def __init__(self) -> None:
        super().__init__("ingest", __version__)
        r = self.registry
        self.queue_jobs = Gauge(
            "chiso_ingest_queue_jobs",
            "Extraction jobs waiting (queued) or leased to a worker (running), at scrape time.",
            ["status"],
            registry=r,
        )
        self.outbox_messages = Gauge(
            "chiso_ingest_outbox_messages",
            "Outbox batches not yet delivered (pending) or refused by indicators for good "
            "(failed), at scrape time.",
            ["status"],
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "chiso_ingest_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox batch (0 when none is pending).",
            registry=r,
        )
        self.job_attempts = Counter(
            "chiso_ingest_job_attempts",
            "Extraction attempts, by outcome: extracted, refused (over a limit, not retried), "
            "error (retried until MAX_JOB_ATTEMPTS).",
            ["outcome"],
            registry=r,
        )
        self.jobs_failed = Counter(
            "chiso_ingest_jobs_failed",
            "Documents whose extraction failed for good, by reason: refused, attempts "
            "(every attempt raised), dead_letter (every attempt's worker died).",
            ["reason"],
            registry=r,
        )
        self.extraction_seconds = Histogram(
            "chiso_ingest_extraction_seconds",
            "Wall-clock time of one document's extraction (in its sandbox).",
            buckets=EXTRACTION_BUCKETS,
            registry=r,
        )
        self.facts_per_document = Histogram(
            "chiso_ingest_facts_per_document",
            "Facts one extraction found in a document.",
            buckets=FACT_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "chiso_ingest_deliveries",
            "Outbox batches sent to indicators, by outcome: delivered, retry, rejected.",
            ["outcome"],
            registry=r,
        )
        self.delivery_retries = Counter(
            "chiso_ingest_delivery_retries",
            "Deliveries to be tried again, by reason: " + ", ".join(RETRY_REASONS) + ".",
            ["reason"],
            registry=r,
        )
        self.facts_delivered = Counter(
            "chiso_ingest_facts_delivered",
            "Facts (and withdrawals) in the batches indicators acknowledged.",
            registry=r,
        )
        for status in JOB_STATES:
            self.queue_jobs.labels(status)
        for status in OUTBOX_STATES:
            self.outbox_messages.labels(status)
        for outcome in ("extracted", "refused", "error"):
            self.job_attempts.labels(outcome)
        for outcome in ("delivered", "retry", "rejected"):
            self.deliveries.labels(outcome)
        for reason in RETRY_REASONS:
            self.delivery_retries.labels(reason)
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.on_scrape(self._refresh_queue)

    def watch_queue(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the queue and outbox gauges from this database before each scrape (the
        lifespan calls it with the engine of its run)."""
        self.sessionmaker = sessionmaker

    async def _refresh_queue(self) -> None:
        if self.sessionmaker is None:
            return
        async with self.sessionmaker() as session:
            jobs, outbox = await queue_stats(session)
        for status in JOB_STATES:
            self.queue_jobs.labels(status).set(jobs.get(status, 0))
        for status in OUTBOX_STATES:
            self.outbox_messages.labels(status).set(outbox.get(status, (0, None))[0])
        oldest = outbox.get("pending", (0, None))[1]
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        self.outbox_oldest_age.set(max(age, 0.0))


async def queue_stats(
    session: AsyncSession,
) -> tuple[dict[str, int], dict[str, tuple[int, datetime | None]]]:
    """Jobs per state and outbox batches per state with the oldest's creation time: two
    grouped counts over the status-led indexes (`ix_jobs_ready`, `ix_outbox_ready`), which
    read only the rows in those states (the backlog, not the history)."""
    jobs = await session.execute(
        select(Job.status, func.count()).where(Job.status.in_(JOB_STATES)).group_by(Job.status)
    )
    outbox = await session.execute(
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(OUTBOX_STATES))
        .group_by(OutboxMessage.status)
    )
    return (
        {row[0]: row[1] for row in jobs},
        {row[0]: (row[1], row[2]) for row in outbox},
    )
