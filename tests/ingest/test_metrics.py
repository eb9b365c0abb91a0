"""Ingest's /metrics over real HTTP: the worker's extraction and delivery counters, the queue
and outbox gauges read from the database at scrape time, and indicators' import counters
moved by the same delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings
from tests.scrape import Scrape, scrape_async
from tests.support import free_port, service_headers, serving

pytestmark = pytest.mark.asyncio
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao. "
    "Tổng số thuê bao Internet băng rộng cố định đạt 450.000 thuê bao."
)


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        yield url


def ingest_settings(tmp_path: Path, ingest_db: str, indicators_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": ingest_db,
        "indicators_url": indicators_url,
        "poll_interval": 0.05,
        **extra,
    }
    return Settings(**values)


@asynccontextmanager
async def ingest(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with serving(create_ingest(settings)) as url:
        headers = service_headers("ingest")
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            yield client


async def upload(client: httpx.AsyncClient, text: str, name: str = "report.txt") -> str:
    response = await client.post("/v1/documents", json={"filename": name, "text": text})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def wait_for_status(
    client: httpx.AsyncClient, document_id: str, wanted: set[str]
) -> dict[str, Any]:
    for _ in range(600):
        status = (await client.get(f"/v1/documents/{document_id}")).json()
        if status["status"] in wanted:
            return dict(status)
        await asyncio.sleep(0.05)
    raise AssertionError(f"document {document_id} never reached {wanted}: {status}")


async def wait_for_metric(client: httpx.AsyncClient, name: str, **labels: str) -> Scrape:
    for _ in range(600):
        metrics = await scrape_async(client)
        if metrics.value(name, **labels) > 0:
            return metrics
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} {labels} never rose")


async def test_an_upload_moves_the_extraction_delivery_and_import_metrics(
    tmp_path: Path, ingest_db: str, indicators_url: str
) -> None:
    async with ingest(ingest_settings(tmp_path, ingest_db, indicators_url)) as client:
        document = await upload(client, REPORT)
        status = await wait_for_status(client, document, {"delivered", "failed"})
        assert status["status"] == "delivered", status
        found = status["fact_count"]
        assert found >= 2
        metrics = await scrape_async(client)

    assert metrics.value("chiso_ingest_job_attempts_total", outcome="extracted") == 1
    assert metrics.value("chiso_ingest_job_attempts_total") == 1
    assert metrics.value("chiso_ingest_jobs_failed_total") == 0
    assert metrics.value("chiso_ingest_extraction_seconds_count") == 1
    assert metrics.value("chiso_ingest_extraction_seconds_sum") > 0
    assert metrics.value("chiso_ingest_facts_per_document_count") == 1
    assert metrics.value("chiso_ingest_facts_per_document_sum") == found
    assert metrics.value("chiso_ingest_deliveries_total", outcome="delivered") == 1
    assert metrics.value("chiso_ingest_deliveries_total", outcome="retry") == 0
    assert metrics.value("chiso_ingest_delivery_retries_total") == 0
    assert metrics.value("chiso_ingest_facts_delivered_total") == found
    # The gauges read at scrape time: nothing waits any more.
    assert metrics.label_values("chiso_ingest_queue_jobs", "status") == {"queued", "running"}
    assert metrics.value("chiso_ingest_queue_jobs") == 0
    assert metrics.label_values("chiso_ingest_outbox_messages", "status") == {"pending", "failed"}
    assert metrics.value("chiso_ingest_outbox_messages") == 0
    assert metrics.value("chiso_ingest_outbox_oldest_pending_age_seconds") == 0
    assert metrics.value("chiso_metrics_refresh_errors_total") == 0
    upload_route = {"service": "ingest", "method": "POST", "route": "/v1/documents"}
    assert metrics.value("chiso_http_requests_total", **upload_route, status="202") == 1
    reads = {"method": "GET", "route": "/v1/documents/{document_id}", "status": "200"}
    assert metrics.value("chiso_http_requests_total", **reads) >= 1

    async with httpx.AsyncClient(base_url=indicators_url) as indicators:
        imports = await scrape_async(indicators)  # no service token: metrics are open
    assert imports.value("chiso_indicators_import_batches_total", outcome="imported") == 1
    assert imports.value("chiso_indicators_import_batches_total") == 1
    assert imports.value("chiso_indicators_facts_imported_total", source="facts") == found
    assert imports.value("chiso_indicators_import_seconds_count", source="facts") == 1
    posts = {"service": "indicators", "method": "POST", "route": "/v1/facts", "status": "200"}
    assert imports.value("chiso_http_requests_total", **posts) == 1


async def test_a_delivery_that_cannot_connect_is_retried_and_waits_in_the_outbox(
    tmp_path: Path, ingest_db: str
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = ingest_settings(
        tmp_path, ingest_db, nowhere, retry_base_seconds=30, retry_max_seconds=60
    )
    async with ingest(settings) as client:
        await upload(client, REPORT)
        metrics = await wait_for_metric(client, "chiso_ingest_delivery_retries_total")

    assert metrics.value("chiso_ingest_delivery_retries_total", reason="connect") == 1
    assert metrics.value("chiso_ingest_delivery_retries_total") == 1
    assert metrics.value("chiso_ingest_deliveries_total", outcome="retry") == 1
    assert metrics.value("chiso_ingest_deliveries_total", outcome="delivered") == 0
    assert metrics.value("chiso_ingest_outbox_messages", status="pending") == 1
    assert metrics.value("chiso_ingest_outbox_oldest_pending_age_seconds") > 0


async def test_waiting_jobs_are_the_queue_depth(tmp_path: Path, ingest_db: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = ingest_settings(tmp_path, ingest_db, nowhere, run_worker=False)
    async with ingest(settings) as client:
        assert (await scrape_async(client)).value("chiso_ingest_queue_jobs", status="queued") == 0
        await upload(client, REPORT, "one.txt")
        await upload(client, REPORT + " Thêm.", "two.txt")
        metrics = await scrape_async(client)
    assert metrics.value("chiso_ingest_queue_jobs", status="queued") == 2
    assert metrics.value("chiso_ingest_queue_jobs", status="running") == 0
    assert metrics.value("chiso_ingest_job_attempts_total") == 0


async def test_a_document_over_a_limit_counts_a_refused_attempt_and_failure(
    tmp_path: Path, ingest_db: str
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = ingest_settings(tmp_path, ingest_db, nowhere, max_facts=1)
    async with ingest(settings) as client:
        document = await upload(client, REPORT)
        status = await wait_for_status(client, document, {"failed", "extracted", "delivered"})
        assert status["status"] == "failed", status
        metrics = await scrape_async(client)
    assert metrics.value("chiso_ingest_job_attempts_total", outcome="refused") == 1
    assert metrics.value("chiso_ingest_jobs_failed_total", reason="refused") == 1
    assert metrics.label_sets("chiso_ingest_jobs_failed_total") == {frozenset({"reason"})}
    assert metrics.value("chiso_ingest_facts_per_document_count") == 0
