"""The walking skeleton over real HTTP: three service processes, a document in, a series out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chiso.admin import create_client, gateway_settings
from chiso.suite import Suite, SuiteConfig
from tests.support import free_port

pytestmark = pytest.mark.slow

REPORT_2022 = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH NGHỆ AN NĂM 2022\n"
    "Năm 2022, tổng số thuê bao điện thoại trên địa bàn tỉnh Nghệ An đạt 3.050.000 thuê bao.\n"
)
REPORT_2023 = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH NGHỆ AN NĂM 2023\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Nghệ An ước đạt 3.120.000 thuê bao.\n"
)


@pytest.fixture
def suite(
    tmp_path: Path, ingest_db: str, indicators_db: str, gateway_db: str
) -> Iterator[tuple[Suite, httpx.Client]]:
    config = SuiteConfig(
        data_dir=tmp_path,
        gateway_port=free_port(),
        ingest_port=free_port(),
        indicators_port=free_port(),
        database_urls={"ingest": ingest_db, "indicators": indicators_db, "gateway": gateway_db},
        log_level="INFO",
    )
    created = asyncio.run(
        create_client(
            "skeleton",
            ["documents:write", "indicators:read"],
            "test",
            gateway_settings(tmp_path, gateway_db),
        )
    )
    running = Suite(config, log_dir=tmp_path / "logs")
    with running, httpx.Client(base_url=config.url("gateway"), timeout=30) as http:
        token = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(created.client_id, created.client_secret),
        )
        assert token.status_code == 200, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield running, http


def wait_for(
    http: httpx.Client, document_id: str, status: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/v1/documents/{document_id}").json()["data"]
        if body["status"] == status:
            return dict(body)
        assert body["status"] != "failed", body
        assert time.monotonic() < deadline, f"still {body['status']} after {timeout}s"
        time.sleep(0.1)


def test_document_in_series_out(suite: tuple[Suite, httpx.Client]) -> None:
    running, http = suite
    ids = []
    for name, text in (("nghe-an-2022.txt", REPORT_2022), ("nghe-an-2023.txt", REPORT_2023)):
        response = http.post(
            "/v1/documents",
            files={"file": (name, text.encode(), "text/plain")},
            headers={"X-Request-ID": f"skeleton-{name}"},
        )
        assert response.status_code == 202, response.text
        assert response.headers["X-Request-ID"] == f"skeleton-{name}"
        ids.append(response.json()["data"]["id"])
    for document_id in ids:
        assert wait_for(http, document_id, "delivered")["fact_count"] >= 1

    series = http.get(
        "/v1/indicators/telecom.subscribers.total/series",
        params={"area": "40", "from": "2022", "to": "2023"},
    )
    assert series.status_code == 200, series.text
    data = series.json()["data"]
    assert (data["indicator"], data["area"]) == ("telecom.subscribers.total", "40")
    points = {point["period"]: point for point in data["observations"]}
    assert points["2022"]["value"] == 3050000
    assert points["2022"]["status"] == "actual"
    assert points["2023"]["value"] == 3120000
    assert points["2023"]["status"] == "estimate"
    source = points["2023"]["sources"][0]
    assert source["document"] == "nghe-an-2023.txt"
    assert source["text"] == "3.120.000"
    assert REPORT_2023[source["start"] : source["end"]] == "3.120.000"

    # The caller's request id reached ingest, and ingest's log line carries it.
    ingest_log = (running.log_dir / "ingest.log").read_text()  # type: ignore[operator]
    assert "skeleton-nghe-an-2022.txt" in ingest_log

    # Ingest and indicators answer only other chiso services (the gateway signed its calls,
    # ingest its delivery): the document's text and a fact import without a token are refused.
    ingest, indicators = running.config.url("ingest"), running.config.url("indicators")
    assert httpx.get(f"{ingest}/v1/documents/{ids[1]}/text").status_code == 401
    assert httpx.post(f"{indicators}/v1/facts", json={"facts": []}).status_code == 401

    # Re-posting the same report is the same document, and changes no series.
    again = http.post(
        "/v1/documents", files={"file": ("copy.txt", REPORT_2022.encode(), "text/plain")}
    )
    assert again.json()["data"]["id"] == ids[0]
    assert again.json()["data"]["duplicate"] is True


def test_readiness_follows_upstreams(suite: tuple[Suite, httpx.Client]) -> None:
    running, http = suite
    assert http.get("/readyz").json()["status"] == "ok"
    running.stop("indicators")
    started = time.monotonic()
    ready = http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["indicators"].startswith("error")
    failing = http.get("/v1/indicators")
    assert failing.status_code == 502
    assert failing.headers["X-Gateway-Error"] == "indicators:unreachable"
    assert time.monotonic() - started < 10
