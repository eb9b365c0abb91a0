"""Two workers on one queue: a job is one worker's at a time, and a worker whose lease ran out
(another claimed the job meanwhile) stores nothing, so no job is done twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import func, select, update

from chiso_ingest.db.models import Job, OutboxMessage, StoredFact
from chiso_ingest.extraction import extract
from chiso_ingest.main import create_app
from chiso_ingest.metrics import IngestMetrics
from chiso_ingest.settings import Settings
from chiso_ingest.worker import Worker
from chiso_shared.db import create_engine, create_sessionmaker, utcnow
from tests.support import free_port, running

pytestmark = pytest.mark.asyncio
REPORT = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH NGHỆ AN NĂM 2023\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh đạt 3.120.017 thuê bao.\n"
    "Toàn tỉnh có 4.123 trạm BTS.\n"
)


async def test_a_worker_whose_lease_ran_out_stores_nothing(tmp_path: Path, ingest_db: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        indicators_url=f"http://127.0.0.1:{free_port()}",
        run_worker=False,
    )
    async with running(create_app(settings)) as client:
        answer = await client.post("/v1/documents", json={"filename": "a.txt", "text": REPORT})
        assert answer.status_code == 202, answer.text
    facts = extract(REPORT, doc="a.txt", published=None, scope=None, max_facts=100)
    assert facts

    engine = create_engine(ingest_db)
    sessionmaker = create_sessionmaker(engine)
    # Claiming and storing use neither the HTTP client nor the extraction sandbox.
    unused: Any = None
    slow, quick = (
        Worker(
            sessionmaker,
            cast(httpx.AsyncClient, unused),
            settings,
            unused,
            IngestMetrics(),
            name=name,
        )
        for name in ("worker-slow", "worker-quick")
    )
    try:
        first = await slow._claim_job()
        assert first is not None and first.claimed_by == "worker-slow"
        assert await quick._claim_job() is None  # leased: not the other worker's to take
        # The slow worker's lease runs out before it has finished; the other claims the job.
        async with sessionmaker() as session:
            await session.execute(update(Job).values(available_at=utcnow() - timedelta(seconds=1)))
            await session.commit()
        second = await quick._claim_job()
        assert second is not None and (second.id, second.attempts) == (first.id, 2)

        assert await slow._store(first, facts) is False
        await slow._fail_job(first, "late failure")  # nor can it fail the job
        assert await quick._store(second, facts) is True

        async with sessionmaker() as session:
            job = (await session.execute(select(Job.status, Job.attempts, Job.claimed_by))).one()
            stored = await session.scalar(select(func.count()).select_from(StoredFact))
            batches = await session.scalar(select(func.count()).select_from(OutboxMessage))
        assert tuple(job) == ("done", 2, "worker-quick")
        assert stored == len(facts)
        assert batches == 1
    finally:
        await engine.dispose()


class Rival(Worker):
    """A worker that, between reading its candidate and leasing it, lets `rival` claim that
    same job first: the race two replicas run when they poll at the same moment."""

    rival: Worker | None = None

    async def _lease(self, session: Any, candidate: Job, now: Any) -> Job | None:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            taken = await rival._claim_job()
            assert taken is not None and taken.id == candidate.id
        return await super()._lease(session, candidate, now)


async def test_a_worker_that_loses_a_job_to_another_takes_the_next(
    tmp_path: Path, ingest_db: str
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        indicators_url=f"http://127.0.0.1:{free_port()}",
        run_worker=False,
    )
    async with running(create_app(settings)) as client:
        for number in range(2):
            text = REPORT.replace("4.123", f"4.12{number}")
            answer = await client.post("/v1/documents", json={"filename": "a.txt", "text": text})
            assert answer.status_code == 202, answer.text
    engine = create_engine(ingest_db)
    sessionmaker = create_sessionmaker(engine)
    unused: Any = None
    http = cast(httpx.AsyncClient, unused)
    winner = Worker(sessionmaker, http, settings, unused, IngestMetrics(), name="worker-a")
    loser = Rival(sessionmaker, http, settings, unused, IngestMetrics(), name="worker-b")
    loser.rival = winner
    try:
        taken = await loser._claim_job()
        assert taken is not None  # not None: it did not give up until the next poll
        async with sessionmaker() as session:
            jobs = (await session.execute(select(Job.id, Job.attempts, Job.claimed_by))).all()
        first, second = sorted(jobs)
        assert first[1:] == (1, "worker-a")
        assert second[1:] == (1, "worker-b") and taken.id == second[0]
    finally:
        await engine.dispose()
