"""The bad-file corpus: each file gets its 4xx problem, and the service stays healthy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from chiso_ingest.db.models import Document, Job
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from chiso_shared.db import create_engine
from tests.ingest.bad_files import MAX_CHARS, MAX_PAGES, MAX_UPLOAD_BYTES, REPORT, corpus
from tests.support import running

pytestmark = pytest.mark.asyncio
CORPUS = corpus()


@pytest_asyncio.fixture
async def client(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        run_worker=False,
        max_upload_bytes=MAX_UPLOAD_BYTES,
        max_chars=MAX_CHARS,
        max_pages=MAX_PAGES,
    )
    async with running(create_app(settings)) as http:
        yield http


async def test_the_corpus_is_big_and_varied() -> None:
    assert len(CORPUS) >= 30
    assert len({bad.name for bad in CORPUS}) == len(CORPUS)
    assert {bad.status for bad in CORPUS} == {413, 415, 422}


async def test_every_bad_file_gets_its_4xx_and_nothing_is_lost(
    client: httpx.AsyncClient, ingest_db: str
) -> None:
    good = await client.post(
        "/v1/documents", files={"file": ("good.txt", REPORT.encode(), "text/plain")}
    )
    assert good.status_code == 202, good.text

    for bad in CORPUS:
        response = await client.post(
            "/v1/documents", files={"file": (bad.name, bad.content, bad.media_type)}
        )
        assert (response.status_code, response.json().get("code")) == (bad.status, bad.code), (
            bad.name,
            response.text[:500],
        )
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"], bad.name
        assert (await client.get("/healthz")).status_code == 200, bad.name

    # The document accepted before the storm is intact, and no bad file left a row behind.
    status = await client.get(f"/v1/documents/{good.json()['id']}")
    assert status.json()["status"] == "queued"
    assert (await client.get(f"/v1/documents/{good.json()['id']}/text")).text == REPORT
    engine = create_engine(ingest_db)
    try:
        async with engine.connect() as connection:
            documents = await connection.scalar(select(func.count()).select_from(Document))
            jobs = await connection.scalar(select(func.count()).select_from(Job))
    finally:
        await engine.dispose()
    assert (documents, jobs) == (1, 1)


async def test_a_declared_size_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/documents",
        content=b"x" * 10,
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(10**9)},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "ingest.too_large"


async def test_a_slow_parse_is_refused_with_422(tmp_path: Path, ingest_db: str) -> None:
    from tests.ingest.builders import make_pdf

    settings = Settings(
        data_dir=tmp_path, database_url=ingest_db, run_worker=False, parse_timeout=1e-6
    )
    async with running(create_app(settings)) as client:
        response = await client.post(
            "/v1/documents",
            files={"file": ("slow.pdf", make_pdf([REPORT] * 3), "application/pdf")},
        )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "ingest.parse_timeout"


async def test_a_read_that_needs_too_much_memory_is_refused_and_the_service_carries_on(
    tmp_path: Path, ingest_db: str
) -> None:
    from tests.ingest.builders import make_docx

    # the child that reads the file gets less address space than its interpreter already
    # holds, so the parser's first large allocation fails, as a decompression bomb's would
    settings = Settings(
        data_dir=tmp_path, database_url=ingest_db, run_worker=False, parse_memory_bytes=16 << 20
    )
    async with running(create_app(settings)) as client:
        docx = make_docx([REPORT] * 20)
        response = await client.post(
            "/v1/documents",
            files={"file": ("big.docx", docx, "application/octet-stream")},
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "ingest.parse_limit", response.text
        assert (await client.get("/healthz")).status_code == 200
    roomy = Settings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    async with running(create_app(roomy)) as client:
        response = await client.post(
            "/v1/documents",
            files={"file": ("big.docx", docx, "application/octet-stream")},
        )
        assert response.status_code == 202, response.text


async def test_media_types_outside_the_setting_are_415(tmp_path: Path, ingest_db: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        run_worker=False,
        accepted_media_types=["text/plain"],
    )
    async with running(create_app(settings)) as client:
        response = await client.post(
            "/v1/documents", files={"file": ("a.html", b"<p>x</p>", "text/html")}
        )
    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]
