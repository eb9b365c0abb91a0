"""A document whose worker dies on every attempt is failed for good, not claimed forever."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from chiso_ingest.db.models import Job
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from chiso_shared.db import create_engine, utcnow
from tests.support import SHARED, free_port, running, service_headers

pytestmark = pytest.mark.asyncio
MAX_ATTEMPTS = 3
MAX_ATTEMPTS_OF_KILLED = 2
POISON = "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao."
SOUND = "Năm 2023, doanh thu dịch vụ viễn thông của tỉnh Nghệ An đạt 1.200 tỷ đồng."


def settings_for(tmp_path: Path, ingest_db: str, *, worker: bool) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        indicators_url=f"http://127.0.0.1:{free_port()}",  # documents stop at "extracted"
        run_worker=worker,
        poll_interval=0.05,
        max_job_attempts=MAX_ATTEMPTS,
    )


async def upload(client: httpx.AsyncClient, text: str) -> str:
    response = await client.post("/v1/documents", json={"filename": "a.txt", "text": text})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def leave_claimed(ingest_db: str, document_id: str, attempts: int) -> None:
    """What a worker killed mid-extraction leaves: the job `running`, its lease run out."""
    engine = create_engine(ingest_db)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(Job)
                .where(Job.document_id == document_id)
                .values(
                    status="running",
                    attempts=attempts,
                    available_at=utcnow() - timedelta(seconds=1),
                    last_error=None,
                )
            )
    finally:
        await engine.dispose()


async def settled(client: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    for _ in range(400):
        status = (await client.get(f"/v1/documents/{document_id}")).json()
        if status["status"] not in ("queued", "extracting"):
            return dict(status)
        await asyncio.sleep(0.05)
    raise AssertionError(f"document {document_id} was not settled: {status}")


async def test_a_job_whose_worker_died_every_time_goes_to_the_dead_letter(
    tmp_path: Path, ingest_db: str
) -> None:
    async with running(create_app(settings_for(tmp_path, ingest_db, worker=False))) as client:
        poison = await upload(client, POISON)
        sound = await upload(client, SOUND)
        before = (await client.get(f"/v1/documents/{poison}")).json()
        assert before["status"] == "queued"
        assert before["job"] == {
            "status": "queued",
            "attempts": 0,
            "max_attempts": MAX_ATTEMPTS,
            "last_error": None,
        }
    # Both workers died while extracting: one document on its last allowed attempt, the
    # other on an earlier one.
    await leave_claimed(ingest_db, poison, MAX_ATTEMPTS)
    await leave_claimed(ingest_db, sound, MAX_ATTEMPTS - 1)

    async with running(create_app(settings_for(tmp_path, ingest_db, worker=True))) as client:
        dead = await settled(client, poison)
        retried = await settled(client, sound)
        await asyncio.sleep(0.3)  # several more polls: the dead job is not claimed again
        again = (await client.get(f"/v1/documents/{poison}")).json()

    assert dead["status"] == "failed"
    assert dead["job"]["status"] == "failed"
    assert dead["job"]["attempts"] == MAX_ATTEMPTS
    assert dead["job"]["last_error"] == dead["error"]
    assert f"attempted {MAX_ATTEMPTS} times" in dead["error"]
    assert "không được thử lại" in dead["error"]
    assert again["job"] == dead["job"]
    assert again["fact_count"] == 0

    # The other had an attempt left: it was taken once more and extracted.
    assert retried["status"] == "extracted", retried
    assert retried["job"]["status"] == "done"
    assert retried["job"]["attempts"] == MAX_ATTEMPTS
    assert retried["fact_count"] >= 1


async def test_the_job_states_are_declared_constraints(tmp_path: Path, ingest_db: str) -> None:
    async with running(create_app(settings_for(tmp_path, ingest_db, worker=False))) as client:
        document = await upload(client, POISON)
    engine = create_engine(ingest_db)
    try:
        for values in ({"status": "lost"}, {"attempts": -1}):
            with pytest.raises(Exception, match="(?i)check"):
                async with engine.begin() as connection:
                    await connection.execute(
                        update(Job).where(Job.document_id == document).values(**values)
                    )
        async with engine.connect() as connection:
            job = (await connection.execute(select(Job.status, Job.attempts))).one()
        assert tuple(job) == ("queued", 0)
    finally:
        await engine.dispose()


def start_ingest(ingest_db: str, tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """The ingest service in its own process group, worker on, leases of one second."""
    env = {
        **os.environ,
        "CHISO_INGEST_DATA_DIR": str(tmp_path),
        "CHISO_INGEST_DATABASE_URL": ingest_db,
        "CHISO_INGEST_INDICATORS_URL": f"http://127.0.0.1:{free_port()}",
        "CHISO_INGEST_JOB_LEASE_SECONDS": "1",
        "CHISO_INGEST_MAX_JOB_ATTEMPTS": "2",
        "CHISO_INGEST_POLL_INTERVAL": "0.05",
        "CHISO_INGEST_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "chiso_ingest.main:create_app", "--factory"]
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for(url: str, document_id: str | None, statuses: set[str]) -> dict[str, Any]:
    signed = service_headers("ingest")
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=signed) as client:
        for _ in range(3000):
            try:
                if document_id is None:
                    if (await client.get("/healthz")).status_code == 200:
                        return {}
                else:
                    status = dict((await client.get(f"/v1/documents/{document_id}")).json())
                    if status["status"] in statuses:
                        return status
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.02)
    raise AssertionError(f"{document_id}: never in {statuses}")


async def test_a_worker_killed_on_every_attempt_leaves_a_dead_letter(
    tmp_path: Path, ingest_db: str
) -> None:
    """Kill the ingest process (by its process group) while it extracts, as the OOM killer
    would, until the job has used its attempts; the next start fails it for good."""
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if not seeds:
        pytest.skip("no seed reports to make a long document from")
    # Long enough (2 MB, at the character limit) that extraction takes a while to kill.
    long_report = "\n".join([seeds[-1].read_text(encoding="utf-8")] * 38)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    document_id = None
    for attempt in range(MAX_ATTEMPTS_OF_KILLED + 1):
        process = start_ingest(ingest_db, tmp_path, port)
        try:
            await wait_for(url, None, set())
            if document_id is None:
                signed = service_headers("ingest")
                async with httpx.AsyncClient(base_url=url, timeout=60, headers=signed) as client:
                    response = await client.post(
                        "/v1/documents", json={"filename": "long.txt", "text": long_report}
                    )
                    assert response.status_code == 202, response.text
                    document_id = response.json()["id"]
            if attempt < MAX_ATTEMPTS_OF_KILLED:
                status = await wait_for(url, document_id, {"extracting"})
                assert status["job"]["status"] == "running"
                os.killpg(process.pid, signal.SIGKILL)  # the worker dies mid-extraction
                process.wait(30)
                await asyncio.sleep(1.2)  # its lease runs out
            else:
                dead = await wait_for(url, document_id, {"failed", "extracted"})
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
    assert dead["status"] == "failed", dead
    assert dead["job"]["status"] == "failed"
    assert dead["job"]["attempts"] == MAX_ATTEMPTS_OF_KILLED
    assert f"attempted {MAX_ATTEMPTS_OF_KILLED} times" in dead["error"]
