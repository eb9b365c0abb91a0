"""Extraction runs in a sandboxed child under fact caps, a deadline and a memory limit; a
document over a limit fails with the reason, and normal documents give the same facts."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from chiso_ingest import extraction
from chiso_ingest.db.models import OutboxMessage, StoredFact
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from chiso_shared.db import create_engine
from chiso_shared.facts import Fact
from tests.support import SHARED, free_port, running

pytestmark = pytest.mark.asyncio
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao. "
    "Tổng số thuê bao Internet băng rộng cố định đạt 450.000 thuê bao."
)
REAL_EXTRACT = extraction.extract


# Stand-ins for the extractor. Module-level: the child process gets them by name.
def extract_with_pid(text: str, **kwargs: Any) -> list[Fact]:
    """The real facts, each labelled with the id of the process that found it."""
    return [f.model_copy(update={"label": str(os.getpid())}) for f in REAL_EXTRACT(text, **kwargs)]


def extract_forever(text: str, **kwargs: Any) -> list[Fact]:
    time.sleep(25)
    return REAL_EXTRACT(text, **kwargs)


def extract_greedily(text: str, **kwargs: Any) -> list[Fact]:
    hog = bytearray(1024 * 1024 * 1024)  # 1 GiB, over the test's 256 MiB limit
    return REAL_EXTRACT(text, **kwargs)[: len(hog) * 0]


def bare_numbers(chars: int) -> str:
    """A report of tab-separated small numbers: two characters per fact."""
    row = "\t".join(str(digit) for digit in range(1, 10)) + "\n"
    return "Năm 2023\n" + row * (chars // len(row))


@pytest.fixture
def settings(tmp_path: Path, ingest_db: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        indicators_url=f"http://127.0.0.1:{free_port()}",  # documents stop at "extracted"
        poll_interval=0.05,
        retry_base_seconds=30,
        retry_max_seconds=60,
    )


async def upload(client: httpx.AsyncClient, text: str, name: str = "report.txt") -> str:
    response = await client.post("/v1/documents", json={"filename": name, "text": text})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def settled(client: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    for _ in range(600):
        status = (await client.get(f"/v1/documents/{document_id}")).json()
        if status["status"] not in ("queued", "extracting"):
            return dict(status)
        await asyncio.sleep(0.05)
    raise AssertionError(f"document {document_id} was not settled: {status}")


async def stored(ingest_db: str, document_id: str) -> tuple[int, int]:
    """(facts, outbox rows) stored for the document."""
    engine = create_engine(ingest_db)
    try:
        async with engine.connect() as connection:
            facts = await connection.scalar(
                select(func.count()).where(StoredFact.document_id == document_id)
            )
            outbox = await connection.scalar(
                select(func.count()).where(OutboxMessage.document_id == document_id)
            )
            return int(facts or 0), int(outbox or 0)
    finally:
        await engine.dispose()


def assert_failed_for_good(status: dict[str, Any], *words: str) -> None:
    assert status["status"] == "failed", status
    assert status["job"]["status"] == "failed"
    assert status["job"]["attempts"] == 1  # not retried: it would fail the same way
    assert status["job"]["last_error"] == status["error"]
    assert " / " in status["error"]  # Vietnamese, then English
    for word in words:
        assert word in status["error"], status["error"]


async def test_extraction_runs_in_another_process(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extraction, "extract", extract_with_pid)
    async with running(create_app(settings)) as client:
        document = await upload(client, REPORT)
        assert (await settled(client, document))["status"] == "extracted"
        facts = (await client.get(f"/v1/documents/{document}/facts")).json()["facts"]
    assert facts
    assert {fact["label"] for fact in facts}.isdisjoint({str(os.getpid())})


async def test_a_text_of_bare_numbers_fails_with_the_reason(
    settings: Settings, ingest_db: str
) -> None:
    text = bare_numbers(50_000)  # about 25,000 facts; the cap is 250 per 1000 chars
    async with running(create_app(settings)) as client:
        document = await upload(client, text)
        status = await settled(client, document)
        facts = (await client.get(f"/v1/documents/{document}/facts")).json()["facts"]
    limit = settings.max_facts_per_1000_chars * -(-len(text) // 1000)
    assert_failed_for_good(status, "quá nhiều số liệu", "too many facts", f"limit of {limit} ")
    assert status["fact_count"] == 0
    assert facts == []
    assert await stored(ingest_db, document) == (0, 0)


async def test_a_document_over_max_facts_fails(settings: Settings) -> None:
    settings.max_facts = 1
    async with running(create_app(settings)) as client:
        over = await upload(client, REPORT)
        within = await upload(client, REPORT.split(". ")[0] + ".", "one-fact.txt")
        over_status, within_status = await settled(client, over), await settled(client, within)
    assert_failed_for_good(over_status, "too many facts: 2,", "limit of 1 ")
    assert (within_status["status"], within_status["fact_count"]) == ("extracted", 1)


async def test_an_extraction_past_its_deadline_fails(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extraction, "extract", extract_forever)
    settings.extract_timeout = 1
    async with running(create_app(settings)) as client:
        status = await settled(client, await upload(client, REPORT))
    assert_failed_for_good(status, "longer than 1 s", "hơn 1 giây")


async def test_an_extraction_over_its_memory_fails(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extraction, "extract", extract_greedily)
    settings.extract_memory_bytes = 256 * 1024 * 1024
    async with running(create_app(settings)) as client:
        status = await settled(client, await upload(client, REPORT))
    assert_failed_for_good(status, "more memory or CPU than allowed")


async def test_normal_documents_give_the_same_facts_as_the_library(settings: Settings) -> None:
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    texts = {path.name: path.read_text(encoding="utf-8") for path in seeds}
    texts["report.txt"] = REPORT
    async with running(create_app(settings)) as client:
        documents = {name: await upload(client, text, name) for name, text in texts.items()}
        for name, document in documents.items():
            assert (await settled(client, document))["status"] == "extracted"
            served = (await client.get(f"/v1/documents/{document}/facts")).json()["facts"]
            text = (await client.get(f"/v1/documents/{document}/text")).text
            expected = [fact.to_jsonl_dict() for fact in extraction.extract(text, doc=name)]
            assert [Fact.model_validate(f).to_jsonl_dict() for f in served] == expected
            assert len(served) == len(expected) > 0


async def test_reextraction_goes_through_the_caps(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(create_app(settings)) as client:
        document = await upload(client, REPORT)
        first = await settled(client, document)
    assert (first["status"], first["fact_count"]) == ("extracted", 2)

    monkeypatch.setattr(extraction, "EXTRACTOR_VERSION", "9.0.0")
    settings.max_facts = 1
    async with running(create_app(settings)) as client:
        queued = await client.post("/v1/documents/reextract")
        assert queued.json()["queued"] == [document]
        status = await settled(client, document)
        facts = (await client.get(f"/v1/documents/{document}/facts")).json()
    assert_failed_for_good(status, "too many facts: 2,")
    # Nothing already accepted is lost: the facts the earlier version found are still served.
    assert (facts["extractor_version"], len(facts["facts"])) == (first["extractor_version"], 2)
