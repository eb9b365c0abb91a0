"""The audit log: one chained row per request, readable by its agency (audit:read) or all of it
(audit:admin), verifiable, no secrets."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, update

from chiso_gateway import audit
from chiso_gateway.db import migrate_async
from chiso_gateway.db.models import AuditRecord
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from chiso_shared.logging import JsonFormatter
from tests.gateway.support import audit_entry, bearer, gateway_settings, new_client
from tests.support import running

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def rows(gateway: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, object]]:
    response = await gateway.get("/v1/audit?limit=1000", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def verify(settings: Settings, rows: int = 0) -> audit.Verification:
    """The chain, once it has at least `rows` rows: rows are written just after the answer."""
    engine = create_engine(settings.resolved_database_url())
    deadline = time.monotonic() + 10
    try:
        while True:
            async with create_sessionmaker(engine)() as session:
                result = await audit.verify(session)
            if result.rows >= rows or not result.ok or time.monotonic() > deadline:
                return result
            await asyncio.sleep(0.01)
    finally:
        await engine.dispose()


async def test_every_request_leaves_one_chained_row(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
    auditor = await bearer(gateway, await new_client(settings, ["audit:admin"], org="ubnd-46"))
    answer = await gateway.get(
        "/v1/indicators/telecom.subscribers.total",
        headers={**reader, "X-User-Id": "officer-17", "X-Purpose": "HS-2024-0042"},
    )
    assert answer.status_code == 200
    assert (await gateway.get("/v1/indicators")).status_code == 401
    assert (await gateway.get("/v1/audit", headers=reader)).status_code == 403
    assert (await gateway.get("/healthz")).status_code == 200  # probes are not audited

    found = await rows(gateway, auditor)
    assert [(row["method"], row["route"], row["status"]) for row in found] == [
        ("POST", "/oauth2/token", 200),
        ("POST", "/oauth2/token", 200),
        ("GET", "/v1/indicators/{code}", 200),
        ("GET", "/v1/indicators", 401),
        ("GET", "/v1/audit", 403),
    ]
    read = found[2]
    assert (read["user_id"], read["purpose"]) == ("officer-17", "HS-2024-0042")
    assert read["request_id"] == answer.headers["X-Request-ID"]
    assert read["client_id"] and read["org"] == "stttt-test"
    assert found[1]["org"] == "ubnd-46"
    assert found[3]["client_id"] == ""
    assert found[0]["prev_hash"] == audit.GENESIS
    for earlier, later in zip(found, found[1:], strict=False):
        assert later["prev_hash"] == earlier["hash"]
    assert all(row["response_hash"] != row["request_hash"] for row in found)

    check = (await gateway.get("/v1/audit/verify", headers=auditor)).json()["data"]
    assert check["ok"] is True and check["rows"] == 6  # the verify call's own read too


async def test_an_agency_reads_only_its_own_rows_and_an_admin_reads_all(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    reader_a = await bearer(gateway, await new_client(settings, ["indicators:read"], org="so-a"))
    auditor_a = await bearer(gateway, await new_client(settings, ["audit:read"], org="so-a"))
    auditor_b = await bearer(gateway, await new_client(settings, ["audit:read"], org="so-b"))
    loner = await new_client(settings, ["audit:read"], org="")
    loner_headers = await bearer(gateway, loner)
    admin = await bearer(gateway, await new_client(settings, ["audit:admin"], org="so-c"))
    read = await gateway.get(
        "/v1/indicators", headers={**reader_a, "X-User-Id": "officer-a", "X-Purpose": "case-a"}
    )
    assert read.status_code == 200
    assert (await gateway.get("/v1/indicators")).status_code == 401

    seen_by_b = await rows(gateway, auditor_b)
    assert seen_by_b, "an agency sees its own requests"
    assert {row["org"] for row in seen_by_b} == {"so-b"}
    assert not [row for row in seen_by_b if row["user_id"] or row["purpose"]]

    seen_by_a = await rows(gateway, auditor_a)
    assert {row["org"] for row in seen_by_a} == {"so-a"}
    assert [(row["user_id"], row["purpose"]) for row in seen_by_a if row["user_id"]] == [
        ("officer-a", "case-a")
    ]

    # A client of no agency reads only its own requests, not those of other such clients.
    seen_by_loner = await rows(gateway, loner_headers)
    assert {row["client_id"] for row in seen_by_loner} == {loner.client_id}

    everything = await rows(gateway, admin)
    assert {"so-a", "so-b", "so-c", ""} <= {str(row["org"]) for row in everything}
    assert ("officer-a", "case-a") in {(row["user_id"], row["purpose"]) for row in everything}
    assert "" in {row["client_id"] for row in everything}  # the request without a token


async def test_audit_scopes_are_documented(gateway: httpx.AsyncClient) -> None:
    read = (await gateway.get("/openapi.json")).json()["paths"]["/v1/audit"]["get"]
    assert "audit:admin" in read["description"] and "audit:read" in read["description"]


async def test_concurrent_requests_keep_one_unbroken_chain(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
    answers = await asyncio.gather(
        *(gateway.get("/v1/indicators", headers=reader) for _ in range(25))
    )
    assert {a.status_code for a in answers} == {200}
    result = await verify(settings, rows=26)
    assert result.ok and result.rows == 26


async def test_verify_command_finds_a_changed_row(
    gateway: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
    for _ in range(3):
        await gateway.get("/v1/indicators", headers=reader)
    assert (await verify(settings, rows=4)).rows == 4  # written (this test blocks the loop below)
    env = {
        **os.environ,
        "CHISO_GATEWAY_DATABASE_URL": settings.resolved_database_url(),
        "CHISO_GATEWAY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "chiso", "audit", "verify", "--data-dir", str(tmp_path)]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0, intact.stderr
    assert "ok: 4 rows" in intact.stdout

    engine = create_engine(settings.resolved_database_url())
    async with create_sessionmaker(engine)() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.id == 3).values(status=500))
        await session.commit()
    await engine.dispose()
    broken = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert "BROKEN at row 3" in broken.stderr


async def test_an_anchor_reveals_rows_cut_off_the_end(
    gateway: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
    for _ in range(3):
        await gateway.get("/v1/indicators", headers=reader)
    whole = await verify(settings, rows=4)
    assert whole.ok and whole.rows == 4
    engine = create_engine(settings.resolved_database_url())
    async with create_sessionmaker(engine)() as session:
        first = (await audit.page(session, after_id=0, limit=1))[0]
        # the last two rows deleted: what is left is still a valid chain
        await session.execute(delete(AuditRecord).where(AuditRecord.id > 2))
        await session.commit()
    await engine.dispose()
    env = {
        **os.environ,
        "CHISO_GATEWAY_DATABASE_URL": settings.resolved_database_url(),
        "CHISO_GATEWAY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "chiso", "audit", "verify", "--data-dir", str(tmp_path)]

    def run(*anchors: str) -> subprocess.CompletedProcess[str]:
        arguments = [part for anchor in anchors for part in ("--anchor", anchor)]
        return subprocess.run(
            [*command, *arguments], env=env, capture_output=True, text=True, timeout=120
        )

    assert run().returncode == 0  # without an anchor the cut cannot be seen
    assert run(first.hash).returncode == 0  # an anchor from before the cut still holds
    cut = run(first.hash, whole.head)
    assert cut.returncode == 1
    assert "CUT" in cut.stderr and "1 anchor" in cut.stderr


async def test_secrets_and_tokens_never_reach_the_logs(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        created = await new_client(settings, ["indicators:read"])
        wrong = await gateway.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_secret": "wrong-secret-xyz"},
            auth=(created.client_id, "wrong-secret-xyz"),
        )
        assert wrong.status_code == 401
        headers = await bearer(gateway, created)
        answer = await gateway.get(
            "/v1/indicators", headers={**headers, "X-Request-ID": "trace-me-42"}
        )
        assert answer.headers["X-Request-ID"] == "trace-me-42"
    finally:
        root.removeHandler(handler)
    logged = stream.getvalue()
    token = headers["Authorization"].removeprefix("Bearer ")
    assert created.client_secret not in logged
    assert "wrong-secret-xyz" not in logged
    assert token not in logged
    # The caller's request id reached indicators: its access log line carries it.
    assert '"request_id": "trace-me-42"' in logged and "/v1/indicators" in logged


async def test_rows_queued_at_shutdown_are_written(settings: Settings) -> None:
    async with running(create_app(settings)) as gateway:
        reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
        answers = await asyncio.gather(
            *(gateway.get("/v1/indicators", headers=reader) for _ in range(10))
        )
        assert {a.status_code for a in answers} == {200}
    # The lifespan drained the writer: every row is there at once, no waiting.
    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            result = await audit.verify(session)
    finally:
        await engine.dispose()
    assert result.ok and result.rows == 11


async def test_a_database_outage_holds_rows_back_and_never_drops_them(gateway_db: str) -> None:
    # The database has no audit table yet: every write fails until it is migrated.
    engine = create_engine(gateway_db)
    writer = audit.AuditWriter(engine, queue_size=2, batch_size=2)
    await writer.start()
    try:
        accepted = 0
        while accepted < 10:  # the failing batch, then a full queue: the caller must wait
            try:
                await asyncio.wait_for(writer.append(audit_entry(accepted)), 0.3)
            except TimeoutError:
                break
            accepted += 1
        assert 2 <= accepted <= 4  # at most one batch (2) taken out, plus the queue (2)
        assert not await writer.flush(0.1)

        await migrate_async(gateway_db)
        await asyncio.wait_for(writer.append(audit_entry(accepted)), 10)
        assert await writer.flush(10)
        async with create_sessionmaker(engine)() as session:
            result = await audit.verify(session)
            rows = await audit.page(session, after_id=0, limit=20)
        assert result.ok and result.rows == accepted + 1
        assert [row.request_id for row in rows] == [f"r{n}" for n in range(accepted + 1)]
        assert rows[0].latency_ms == 1.235  # rounded before it was hashed and stored
    finally:
        await writer.aclose(5)
        await engine.dispose()


async def test_two_writers_on_one_database_keep_one_chain(gateway_db: str) -> None:
    # Two processes' writers: a writer whose remembered head is stale re-reads it and retries.
    await migrate_async(gateway_db)
    engines = [create_engine(gateway_db), create_engine(gateway_db)]
    writers = [audit.AuditWriter(engine, batch_size=3) for engine in engines]
    for writer in writers:
        await writer.start()
    try:
        for number in range(30):
            await writers[number % 2].append(audit_entry(number))
            if number % 7 == 0:
                await writers[number % 2].flush(10)
        assert all([await writer.flush(10) for writer in writers])
        async with create_sessionmaker(engines[0])() as session:
            result = await audit.verify(session)
        assert result.ok and result.rows == 30
    finally:
        for writer in writers:
            await writer.aclose(5)
        for engine in engines:
            await engine.dispose()


async def test_the_writer_logs_the_chain_head_as_an_anchor(gateway_db: str) -> None:
    await migrate_async(gateway_db)
    engine = create_engine(gateway_db)
    heads: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "audit chain head":
                heads.append(str(record.__dict__["audit_head"]))

    handler, logger = Keep(), logging.getLogger("chiso.gateway.audit")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # whatever an earlier app configured
    writer = audit.AuditWriter(engine, anchor_every=3600)
    await writer.start()
    try:
        for number in range(3):
            await writer.append(audit_entry(number))
            assert await writer.flush(10)
        async with create_sessionmaker(engine)() as session:
            result = await audit.verify(session, anchors=heads)
        # logged once (then not again within the hour), and it is a row of the chain
        assert len(heads) == 1 and result.ok and result.rows == 3
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        await writer.aclose(5)
        await engine.dispose()
