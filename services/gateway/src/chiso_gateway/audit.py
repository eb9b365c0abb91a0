"""The audit log: one hash-chained, append-only row per request, and its verification."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chiso_gateway.db.models import AuditRecord

if TYPE_CHECKING:
    from chiso_gateway.audit_journal import AuditJournal

GENESIS = "0" * 64
AUDIT_TABLE = AuditRecord.metadata.tables[AuditRecord.__tablename__]
logger = logging.getLogger("chiso.gateway.audit")


@dataclass(frozen=True)
class AuditEntry:
    ts: datetime
    request_id: str
    client_id: str
    org: str
    user_id: str
    purpose: str
    token_id: str
    method: str
    route: str
    status: int
    latency_ms: float
    request_hash: str
    response_hash: str
    # what the request acted on, when a route names it (`document:<id> review:<id>`)
    subject: str = ""


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    broken_at: int | None = None
    reason: str = ""
    head: str = GENESIS  # the last row's hash: an anchor to keep outside the database


def _micros(ts: datetime) -> int:
    # SQLite hands datetimes back naive; they were written as UTC.
    aware = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1_000_000)


def _fields(entry: AuditEntry) -> dict[str, Any]:
    # A shallow copy: `dataclasses.asdict` deep-copies every value, which cost more than the
    # hashing itself. The fields are all immutable.
    return dict(vars(entry))


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    fields = _fields(entry)
    if not fields["subject"]:
        # rows without one hash as rows did before the field existed: old chains still verify
        del fields["subject"]
    fields["ts"] = _micros(entry.ts)
    fields["latency_ms"] = f"{entry.latency_ms:.3f}"
    material = json.dumps([prev_hash, fields], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def _entry(row: AuditRecord) -> AuditEntry:
    return AuditEntry(
        ts=row.ts,
        request_id=row.request_id,
        client_id=row.client_id,
        org=row.org,
        user_id=row.user_id,
        purpose=row.purpose,
        token_id=row.token_id,
        method=row.method,
        route=row.route,
        status=row.status,
        latency_ms=row.latency_ms,
        request_hash=row.request_hash,
        response_hash=row.response_hash,
        subject=row.subject,
    )


def _rounded(entry: AuditEntry) -> AuditEntry:
    # The stored float and the hashed text must agree, so round before either is made.
    latency = round(entry.latency_ms, 3)
    return entry if latency == entry.latency_ms else replace(entry, latency_ms=latency)


class AuditWriter:
    """Appends rows off the response path: requests queue an entry, one task writes them.

    - Order: one writer task per process takes entries in the order requests finished and
      chains them in that order, a batch per transaction. Several processes may share one
      chain: the unique `prev_hash` makes the loser of a race fail, and its batch is chained
      again on the new head.
    - Backpressure, never loss: the queue is bounded. When the database falls behind (or is
      down) and the queue is full, `append` waits, and so the response waits, rather than
      drop a row. A batch that fails is retried until it is written.
    - Durability: a row is in the database a few milliseconds after its response was sent
      (`batch_wait` plus one commit). `aclose`, called by the lifespan on shutdown, writes
      everything queued. With a `journal` (`audit_journal.AuditJournal`), every queued entry
      is also in a local file first, so a crash of the process (kill -9) loses none: the next
      process to start on that directory writes them. Without one, a crash loses the queue.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        batch_wait: float = 0.0,
        journal: AuditJournal | None = None,
        anchor_every: float = 60.0,
    ) -> None:
        self.engine = engine
        self.journal = journal
        self.anchor_every = anchor_every
        self.anchored_at = float("-inf")
        self.head: str | None = None  # the hash this process last appended, when known
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.queue: asyncio.Queue[AuditEntry] = asyncio.Queue(queue_size)
        self.queued = 0  # entries ever queued
        self.written = 0  # entries ever committed
        self.progress = asyncio.Condition()
        self.task: asyncio.Task[None] | None = None
        self.closing = False
        self.idle = asyncio.Event()  # set while the writer holds no database connection
        self.idle.set()

    async def start(self) -> None:
        """Start writing; with a journal, first queue what crashed processes left unwritten
        (skipping rows that reached the database before the crash could mark them)."""
        if self.task is not None:
            return
        self.task = asyncio.create_task(self._run(), name="audit-writer")
        if self.journal is not None:
            for entry in await self._not_stored(self.journal.open()):
                await self.append(entry)

    async def append(self, entry: AuditEntry) -> None:
        """Queue one entry (journalled first); waits only while the queue is full."""
        if self.task is None:
            raise RuntimeError("the audit writer is not started")
        entry = _rounded(entry)
        await self.queue.put(entry)
        if self.journal is not None:
            self.journal.write(entry)
        self.queued += 1

    async def _not_stored(self, entries: list[AuditEntry]) -> list[AuditEntry]:
        if not entries:
            return []
        stored: set[tuple[str, int]] = set()
        ids = sorted({entry.request_id for entry in entries})
        async with self.engine.connect() as connection:
            for offset in range(0, len(ids), 500):
                rows = await connection.execute(
                    select(AuditRecord.request_id, AuditRecord.ts).where(
                        AuditRecord.request_id.in_(ids[offset : offset + 500])
                    )
                )
                stored.update((request_id, _micros(ts)) for request_id, ts in rows)
        return [entry for entry in entries if (entry.request_id, _micros(entry.ts)) not in stored]

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every entry queued so far is written; False if `timeout` ran out."""
        target = self.queued
        try:
            async with asyncio.timeout(timeout):
                async with self.progress:
                    await self.progress.wait_for(lambda: self.written >= target)
        except TimeoutError:
            return False
        return True

    async def aclose(self, timeout: float) -> None:
        """Write everything queued (waiting at most `timeout` seconds), then stop."""
        if self.task is None:
            return
        if not await self.flush(timeout):
            logger.error(
                "audit rows lost at shutdown: the database did not take them in time",
                extra={"rows": self.queued - self.written},
            )
        # Cancel only between writes: a task cancelled inside a write can leave its pooled
        # connection to the garbage collector instead of closing it.
        self.closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None
        if self.journal is not None:
            self.journal.close(all_done=self.written >= self.queued)

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            if self.batch_wait > 0:
                await asyncio.sleep(self.batch_wait)
            while len(batch) < self.batch_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.idle.clear()
            try:
                written = await self._write(batch)
            finally:
                self.idle.set()
            if not written:
                continue
            self._anchor()
            async with self.progress:
                self.written += len(batch)
                if self.journal is not None:
                    self.journal.committed(len(batch), all_done=self.written == self.queued)
                self.progress.notify_all()

    def _anchor(self) -> None:
        """Log the chain's head now and then. Rows cut off the end of the chain leave a valid
        chain behind; a head logged outside the database (the log pipeline) shows the cut:
        `chiso audit verify --anchor HASH` fails once the row with that hash is gone."""
        now = time.monotonic()
        if self.head is not None and now - self.anchored_at >= self.anchor_every:
            self.anchored_at = now
            logger.info("audit chain head", extra={"audit_head": self.head})

    async def _write(self, batch: list[AuditEntry]) -> bool:
        """Write one batch, retrying until it is written (True) or the writer closes (False)."""
        attempt = 0
        while True:
            try:
                await self._try_write(batch)
                return True
            except (IntegrityError, OperationalError) as exc:
                if attempt % 20 == 19:
                    logger.warning("audit rows not written yet", extra={"error": repr(exc)})
            except Exception as exc:
                # The database is down or failing: keep the rows and try again.
                if attempt % 20 == 0:
                    logger.error("audit rows not written yet", extra={"error": repr(exc)})
            attempt += 1
            if self.closing:  # shutting down with the database still failing: give up
                return False
            await asyncio.sleep(min(1.0, 0.005 * 2 ** min(attempt, 10)))

    async def _try_write(self, batch: list[AuditEntry]) -> None:
        async with self.engine.connect() as connection:
            if self.head is None:
                found = await connection.scalar(
                    select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
                )
                self.head = found or GENESIS
            prev_hash = self.head
            rows = []
            for entry in batch:
                digest = chain_hash(prev_hash, entry)
                rows.append({**_fields(entry), "prev_hash": prev_hash, "hash": digest})
                prev_hash = digest
            try:
                # One statement: the rows get their ids in list order, the chain's order.
                await connection.execute(AUDIT_TABLE.insert(), rows)
                await connection.commit()
            except Exception:
                # Mostly another process appended first, so a row already links to our head
                # (unique `prev_hash`), or it held the SQLite lock: read the head, chain again.
                self.head = None
                await connection.rollback()
                raise
            self.head = prev_hash


async def page(
    session: AsyncSession,
    *,
    after_id: int,
    limit: int,
    org: str | None = None,
    client_id: str | None = None,
) -> list[AuditRecord]:
    """Rows after `after_id` in chain order; only `org`'s or `client_id`'s when given."""
    query = select(AuditRecord).where(AuditRecord.id > after_id)
    if org is not None:
        query = query.where(AuditRecord.org == org)
    if client_id is not None:
        query = query.where(AuditRecord.client_id == client_id)
    query = query.order_by(AuditRecord.id).limit(limit)
    return list((await session.scalars(query)).all())


async def verify(
    session: AsyncSession, batch: int = 1000, anchors: Collection[str] = ()
) -> Verification:
    """Walk the chain from the first row: each row links to the previous and hashes right,
    and every anchor (a head logged earlier) is still one of its rows."""
    expected_prev, last_id, count = GENESIS, 0, 0
    missing = set(anchors)
    while rows := await page(session, after_id=last_id, limit=batch):
        for row in rows:
            if row.prev_hash != expected_prev:
                return Verification(False, count, row.id, "prev_hash does not match")
            if chain_hash(row.prev_hash, _entry(row)) != row.hash:
                return Verification(False, count, row.id, "row content does not match its hash")
            missing.discard(row.hash)
            expected_prev, last_id, count = row.hash, row.id, count + 1
    if missing:
        reason = f"the chain no longer reaches {len(missing)} anchor(s): rows were cut off its end"
        return Verification(False, count, None, reason, expected_prev)
    return Verification(True, count, head=expected_prev)
