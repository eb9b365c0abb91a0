"""The audit journal: rows a killed gateway had only queued are written by the next process
to start on the same journal directory, once each, in one unbroken chain."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from chiso_gateway import audit
from chiso_gateway.audit_journal import AuditJournal, encode, uncommitted
from chiso_gateway.db import migrate_async
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import (
    SECRET,
    audit_entry,
    start_gateway,
    stop_process,
    wait_healthy,
)
from tests.support import free_port

pytestmark = pytest.mark.asyncio


async def test_only_entries_after_the_last_commit_mark_are_replayed() -> None:
    lines = [encode(audit_entry(n)).strip() for n in range(5)]
    journal = [lines[0], lines[1], b'{"committed": 2}', lines[2], lines[3], lines[4][:40]]
    assert [e.request_id for e in uncommitted(journal)] == ["r2", "r3"]  # torn line skipped
    assert uncommitted([*lines[:2], b'{"committed": 2}']) == []
    assert [e.request_id for e in uncommitted(lines[:3])] == ["r0", "r1", "r2"]


async def rows(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await audit.page(session, after_id=0, limit=100)
            assert (await audit.verify(session)).ok
            return [row.request_id for row in found]
    finally:
        await engine.dispose()


async def test_a_live_writers_journal_is_left_alone_and_a_dead_ones_adopted(
    tmp_path: Path,
) -> None:
    alive, starting = AuditJournal(tmp_path), AuditJournal(tmp_path)
    assert alive.open() == []
    alive.write(audit_entry(1))
    assert starting.open() == []  # the first file is locked by its (live) owner
    alive.close(all_done=False)  # its owner dies with one entry unwritten
    late = AuditJournal(tmp_path)
    assert [e.request_id for e in late.open()] == ["r1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [starting.path.name, late.path.name]
    )
    for journal in (starting, late):
        journal.close(all_done=True)
    assert list(tmp_path.iterdir()) == []


async def test_rows_queued_when_the_gateway_is_killed_are_written_after_restart(
    tmp_path: Path, gateway_db: str
) -> None:
    await migrate_async(gateway_db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "CHISO_GATEWAY_DATA_DIR": str(tmp_path),
        "CHISO_GATEWAY_DATABASE_URL": gateway_db,
        "CHISO_GATEWAY_JWT_SECRET": SECRET,
        "CHISO_GATEWAY_INDICATORS_URL": f"http://127.0.0.1:{free_port()}",
        "CHISO_GATEWAY_INGEST_URL": f"http://127.0.0.1:{free_port()}",
        "CHISO_GATEWAY_LOG_LEVEL": "WARNING",
        "CHISO_GATEWAY_MIGRATE_ON_START": "false",
        # The writer holds each batch this long before writing it: the rows are still queued
        # when the process is killed.
        "CHISO_GATEWAY_AUDIT_BATCH_WAIT_SECONDS": "5",
    }
    log = tmp_path / "gateway.log"
    process = start_gateway(port, env, log)
    try:
        wait_healthy(url, process)
        async with httpx.AsyncClient(base_url=url) as client:
            answers = [
                await client.get("/v1/catalog", headers={"X-Request-ID": f"killed-{n}"})
                for n in range(5)
            ]
        assert {answer.status_code for answer in answers} == {401}
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(15)
    finally:
        stop_process(process)
    assert await rows(gateway_db) == []  # without the journal these rows were lost

    restarted = start_gateway(port, {**env, "CHISO_GATEWAY_AUDIT_BATCH_WAIT_SECONDS": "0"}, log)
    try:
        wait_healthy(url, restarted)
        for _ in range(200):
            found = await rows(gateway_db)
            if len(found) >= 5:
                break
            await asyncio.sleep(0.05)
        assert found == [f"killed-{n}" for n in range(5)]
    finally:
        stop_process(restarted)
    assert await rows(gateway_db) == [f"killed-{n}" for n in range(5)]  # once each
    assert list((tmp_path / "audit-journal").iterdir()) == []  # all written: nothing kept
