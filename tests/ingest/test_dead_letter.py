"""A document whose worker dies on every attempt is failed for good, not claimed forever."""

from __future__ import annotations

import asyncio
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
from tests.support import free_port, running

pytestmark = pytest.mark.asyncio
MAX_ATTEMPTS = 3
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
