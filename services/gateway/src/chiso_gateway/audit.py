"""The audit log: one hash-chained, append-only row per request, and its verification."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_gateway.db.models import AuditRecord

GENESIS = "0" * 64
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


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    broken_at: int | None = None
    reason: str = ""


def _micros(ts: datetime) -> int:
    # SQLite hands datetimes back naive; they were written as UTC.
    aware = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1_000_000)


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    fields = asdict(entry)
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
    )


class AuditWriter:
    """Appends rows; a lock keeps one process's writers in line, the unique `prev_hash`
    keeps several processes' writers from forking the chain."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], attempts: int = 20) -> None:
        self.sessionmaker = sessionmaker
        self.attempts = attempts
        self.lock = asyncio.Lock()

    async def append(self, entry: AuditEntry) -> None:
        entry = AuditEntry(**{**asdict(entry), "latency_ms": round(entry.latency_ms, 3)})
        async with self.lock:
            for attempt in range(self.attempts):
                if await self._try_append(entry):
                    return
                await asyncio.sleep(min(0.5, 0.005 * 2**attempt))
        logger.error("audit row could not be written", extra={"route": entry.route})

    async def _try_append(self, entry: AuditEntry) -> bool:
        async with self.sessionmaker() as session:
            head = await session.scalar(
                select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
            )
            prev_hash = head or GENESIS
            session.add(
                AuditRecord(**asdict(entry), prev_hash=prev_hash, hash=chain_hash(prev_hash, entry))
            )
            try:
                await session.commit()
            except (IntegrityError, OperationalError):
                await session.rollback()
                return False
            return True


async def page(session: AsyncSession, *, after_id: int, limit: int) -> list[AuditRecord]:
    query = (
        select(AuditRecord).where(AuditRecord.id > after_id).order_by(AuditRecord.id).limit(limit)
    )
    return list((await session.scalars(query)).all())


async def verify(session: AsyncSession, batch: int = 1000) -> Verification:
    """Walk the chain from the first row: each row links to the previous and hashes right."""
    expected_prev, last_id, count = GENESIS, 0, 0
    while rows := await page(session, after_id=last_id, limit=batch):
        for row in rows:
            if row.prev_hash != expected_prev:
                return Verification(False, count, row.id, "prev_hash does not match")
            if chain_hash(row.prev_hash, _entry(row)) != row.hash:
                return Verification(False, count, row.id, "row content does not match its hash")
            expected_prev, last_id, count = row.hash, row.id, count + 1
    return Verification(True, count)
