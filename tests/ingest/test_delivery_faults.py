"""Delivery survives faults: real ingest and indicators processes, stopped and killed.

"Exactly once" is checked where it matters: after recovery indicators holds each fact's
source once (observations with their whole history), and every outbox batch is delivered.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from chiso.suite import Suite, SuiteConfig
from chiso_ingest.db.models import OutboxMessage
from chiso_shared.db import create_engine
from tests.support import SERVICE_SECRET, free_port, service_headers

pytestmark = pytest.mark.slow
PROVINCES = ["VN-38", "VN-40", "VN-42", "VN-44", "VN-45", "VN-46"]
FAST_RETRIES = {
    "CHISO_INGEST_POLL_INTERVAL": "0.1",
    "CHISO_INGEST_RETRY_BASE_SECONDS": "0.1",
    "CHISO_INGEST_RETRY_MAX_SECONDS": "0.5",
    # The delivery lease is 3 × the read timeout: a batch claimed by a killed process is
    # claimed again after 3 s.
    "CHISO_INGEST_HTTP__READ_TIMEOUT": "1",
    "CHISO_INGEST_DELIVERY_BATCH_SIZE": "1",
}


def dotted(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def report(index: int) -> str:
    year = 2015 + index % 9
    return (
        f"BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG NĂM {year}\n"
        f"Năm {year}, tổng số thuê bao điện thoại trên địa bàn tỉnh đạt "
        f"{dotted(2_000_000 + index * 1_000)} thuê bao.\n"
        "Tổng số thuê bao Internet băng rộng cố định đạt "
        f"{dotted(300_000 + index * 100)} thuê bao.\n"
    )


@pytest.fixture
def suite(tmp_path: Path, ingest_db: str, indicators_db: str) -> Iterator[Suite]:
    config = SuiteConfig(
        data_dir=tmp_path,
        gateway_port=free_port(),
        ingest_port=free_port(),
        indicators_port=free_port(),
        database_urls={"ingest": ingest_db, "indicators": indicators_db},
        extra_env=FAST_RETRIES,
        log_level="INFO",
        service_token_secret=SERVICE_SECRET,
    )
    running = Suite(config, log_dir=tmp_path / "logs")
    try:
        for service in ("indicators", "ingest"):
            running.start(service)
        running.wait_ready(services=("indicators", "ingest"))
        yield running
    finally:
        running.stop_all()


def ingest_client(suite: Suite) -> httpx.Client:
    """A client of the suite's ingest, with a service token as the gateway sends."""
    return httpx.Client(
        base_url=suite.config.url("ingest"), timeout=30, headers=service_headers("ingest")
    )


def post_reports(http: httpx.Client, count: int, offset: int = 0) -> list[str]:
    ids = []
    for index in range(offset, offset + count):
        response = http.post(
            "/v1/documents",
            files={"file": (f"bao-cao-{index}.txt", report(index).encode(), "text/plain")},
            data={"scope": PROVINCES[index % len(PROVINCES)]},
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def statuses(http: httpx.Client, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {document_id: http.get(f"/v1/documents/{document_id}").json() for document_id in ids}


def wait_until(condition: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def outbox_counts(ingest_db: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        engine = create_engine(ingest_db)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
                return {str(status): int(number) for status, number in rows.all()}
        finally:
            await engine.dispose()

    return asyncio.run(count())


def delivered_sources(indicators_url: str) -> Counter[tuple[str, int, int]]:
    """(document, start, end) of every source of every observation version in indicators."""
    sources: Counter[tuple[str, int, int]] = Counter()
    cursor = None
    with httpx.Client(
        base_url=indicators_url, timeout=30, headers=service_headers("indicators")
    ) as http:
        while True:
            params: dict[str, Any] = {"include_history": "true", "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/v1/observations", params=params).json()
            for item in page["items"]:
                for source in item["sources"]:
                    sources[(source["document_id"], source["start"], source["end"])] += 1
            cursor = page.get("next_cursor")
            if not cursor:
                return sources


def assert_exactly_once(suite: Suite, ingest_db: str, ids: list[str]) -> None:
    with ingest_client(suite) as http:
        wait_until(
            lambda: all(s["status"] == "delivered" for s in statuses(http, ids).values()),
            "every document delivered",
        )
        expected = {
            (document_id, fact["start"], fact["end"])
            for document_id in ids
            for fact in http.get(f"/v1/documents/{document_id}/facts").json()["facts"]
            if fact["indicator"] and fact["scope"]
        }
    counts = outbox_counts(ingest_db)
    assert set(counts) == {"delivered"}, counts
    sources = delivered_sources(suite.config.url("indicators"))
    duplicates = {key: n for key, n in sources.items() if n > 1}
    assert not duplicates, duplicates
    assert {key[0] for key in sources} == set(ids)
    assert set(sources) <= expected  # nothing indicators holds came from elsewhere
    assert len(sources) >= len(ids) * 2


def test_indicators_down_while_ingesting_then_back(suite: Suite, ingest_db: str) -> None:
    suite.stop("indicators")
    with ingest_client(suite) as http:
        ids = post_reports(http, 12)
        # Extraction goes on; delivery waits, retrying with backoff.
        wait_until(
            lambda: all(s["status"] == "extracted" for s in statuses(http, ids).values()),
            "every document extracted while indicators is down",
        )
        assert outbox_counts(ingest_db).get("pending", 0) >= 24
    suite.start("indicators")
    suite.wait_ready(services=("indicators",))
    assert_exactly_once(suite, ingest_db, ids)


def test_ingest_killed_mid_delivery_then_restarted(suite: Suite, ingest_db: str) -> None:
    suite.stop("indicators")
    with ingest_client(suite) as http:
        ids = post_reports(http, 12)
        wait_until(
            lambda: all(s["status"] == "extracted" for s in statuses(http, ids).values()),
            "every document extracted",
        )
    total = sum(outbox_counts(ingest_db).values())
    suite.start("indicators")
    suite.wait_ready(services=("indicators",))
    # Kill ingest as soon as delivery is under way but not finished.
    wait_until(
        lambda: 0 < outbox_counts(ingest_db).get("delivered", 0) < total,
        "delivery under way",
    )
    suite.kill("ingest")
    assert outbox_counts(ingest_db).get("delivered", 0) < total
    suite.start("ingest")
    suite.wait_ready(services=("ingest",))
    assert_exactly_once(suite, ingest_db, ids)
