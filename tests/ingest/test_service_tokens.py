"""Ingest answers only other chiso services, and signs its deliveries to indicators
(security review item 10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.cli import app
from chiso_indicators.main import create_app as indicators_app
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.db.models import OutboxMessage
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from chiso_shared.db import create_engine
from chiso_shared.service_auth import READ
from tests.support import running, service_headers, serving

pytestmark = pytest.mark.asyncio
REPORT = "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"
OTHER_SECRET = "a-secret-indicators-does-not-know-0123456789"


@pytest_asyncio.fixture
async def anonymous(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process ingest app (no worker), called without any service token."""
    settings = Settings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    async with running(create_app(settings), service_token=False) as http:
        yield http


async def upload(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.post(
        "/v1/documents", json={"filename": "nghe-an.txt", "text": REPORT}, headers=headers
    )


async def test_uploads_and_reextraction_need_a_token(anonymous: httpx.AsyncClient) -> None:
    refused = await upload(anonymous)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "service_auth.token_missing"
    assert (await anonymous.post("/v1/documents/reextract")).status_code == 401
    read_only = await upload(anonymous, **service_headers("ingest", (READ,)))
    assert read_only.status_code == 403, read_only.text
    for_indicators = await upload(anonymous, **service_headers("indicators"))
    assert for_indicators.json()["code"] == "service_auth.wrong_audience"
    accepted = await upload(anonymous, **service_headers("ingest"))
    assert accepted.status_code == 202, accepted.text


async def test_document_text_and_facts_need_a_token(anonymous: httpx.AsyncClient) -> None:
    document_id = (await upload(anonymous, **service_headers("ingest"))).json()["id"]
    for part in ("", "/text", "/facts", "/layout"):
        url = f"/v1/documents/{document_id}{part}"
        refused = await anonymous.get(url)
        assert refused.status_code == 401, (url, refused.text)
        assert refused.json()["code"] == "service_auth.token_missing"
        allowed = await anonymous.get(url, headers=service_headers("ingest", (READ,)))
        assert allowed.status_code == 200, (url, allowed.text)
    text = await anonymous.get(
        f"/v1/documents/{document_id}/text", headers=service_headers("ingest")
    )
    assert "3.100.000 thuê bao" in text.text


async def test_open_reads_leave_uploads_closed(tmp_path: Path, ingest_db: str) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=ingest_db, run_worker=False, open_reads=True
    )
    async with running(create_app(settings), service_token=False) as anonymous:
        assert (await upload(anonymous)).status_code == 401
        document_id = (await upload(anonymous, **service_headers("ingest"))).json()["id"]
        assert (await anonymous.get(f"/v1/documents/{document_id}/text")).status_code == 200


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(indicators_app(settings)) as url:
        yield url


async def outbox(ingest_db: str) -> list[Any]:
    engine = create_engine(ingest_db)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(OutboxMessage).order_by(OutboxMessage.id))
            return list(rows.all())
    finally:
        await engine.dispose()


async def document_status(client: httpx.AsyncClient, document_id: str, wanted: str) -> str:
    for _ in range(600):
        status = str((await client.get(f"/v1/documents/{document_id}")).json()["status"])
        if status == wanted:
            break
        await asyncio.sleep(0.05)
    return status


async def test_deliveries_are_signed_and_a_refused_token_loses_nothing(
    tmp_path: Path, ingest_db: str, indicators_url: str
) -> None:
    def settings(**extra: Any) -> Settings:
        return Settings(
            data_dir=tmp_path,
            database_url=ingest_db,
            indicators_url=indicators_url,
            poll_interval=0.05,
            retry_base_seconds=0.05,
            retry_max_seconds=0.2,
            **extra,
        )

    # A secret indicators does not share: every delivery is refused (401) and retried.
    async with running(create_app(settings(service_token_secret=OTHER_SECRET))) as client:
        document_id = (await upload(client)).json()["id"]
        for _ in range(600):
            rows = await outbox(ingest_db)
            if rows and rows[0].attempts >= 2:
                break
            await asyncio.sleep(0.05)
        assert rows and rows[0].attempts >= 2, rows
        assert all(row.status == "pending" for row in rows), [r.status for r in rows]
        assert "401" in (rows[0].last_error or "")
        status = (await client.get(f"/v1/documents/{document_id}")).json()["status"]
        assert status != "failed"

    # With the deployment's secret the same rows are delivered.
    async with running(create_app(settings())) as client:
        assert await document_status(client, document_id, "delivered") == "delivered"
    assert all(row.status == "delivered" for row in await outbox(ingest_db))
    headers = service_headers("indicators")
    async with httpx.AsyncClient(base_url=indicators_url, headers=headers) as indicators:
        items = (await indicators.get("/v1/observations")).json()["items"]
    assert [item["value"] for item in items] == [3100000]


async def test_the_reextract_command_signs_its_call(tmp_path: Path, ingest_db: str) -> None:
    """`chiso ingest --reextract` calls ingest directly, signed with ingest's own secret."""
    settings = Settings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    with serving(create_app(settings)) as url:
        result = CliRunner().invoke(app, ["ingest", "--reextract", "--ingest-url", url])
        assert result.exit_code == 0, result.output
        assert "re-extracting 0 document(s)" in result.output
        assert httpx.post(f"{url}/v1/documents/reextract").status_code == 401
