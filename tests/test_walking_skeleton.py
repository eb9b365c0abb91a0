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
        # the data revision re-read on every read, so a stopped indicators is noticed at once;
        # deliveries retried within a second once it is back
        extra_env={
            "CHISO_GATEWAY_REVISION_CHECK_SECONDS": "0",
            "CHISO_INGEST_RETRY_MAX_SECONDS": "1",
        },
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


def test_readiness_does_not_follow_upstreams(suite: tuple[Suite, httpx.Client]) -> None:
    """Indicators stops: ingest and the gateway stay ready (their databases answer) and say
    indicators is down; uploads are still accepted and delivered once it is back; a read
    served before is served again, marked stale; a read never served is a 502 as before."""
    running, http = suite
    ingest = running.config.url("ingest")
    first = http.post(
        "/v1/documents", files={"file": ("nghe-an-2022.txt", REPORT_2022.encode(), "text/plain")}
    )
    assert first.status_code == 202, first.text
    wait_for(http, first.json()["data"]["id"], "delivered")
    series = "/v1/indicators/telecom.subscribers.total/series?area=40"
    before = http.get(series)
    assert before.status_code == 200, before.text
    assert "X-Chiso-Stale" not in before.headers
    ready = http.get("/readyz")
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok"},
        "reported": {"ingest": "ok", "indicators": "ok"},
    }

    running.stop("indicators")
    started = time.monotonic()
    for readiness in (http.get("/readyz"), httpx.get(f"{ingest}/readyz")):
        assert readiness.status_code == 200, readiness.text
        assert readiness.json()["status"] == "ok"
        assert readiness.json()["checks"] == {"database": "ok"}
        assert readiness.json()["reported"]["indicators"].startswith("error")

    stale = http.get(series)
    assert stale.status_code == 200, stale.text
    assert stale.headers["X-Chiso-Stale"] == "true"
    assert int(stale.headers["Age"]) >= 0
    assert stale.headers["X-Gateway-Error"] == "indicators:unreachable"
    assert stale.content == before.content
    failing = http.get("/v1/indicators")  # never read before: nothing to fall back on
    assert failing.status_code == 502
    assert failing.headers["X-Gateway-Error"] == "indicators:unreachable"
    assert time.monotonic() - started < 10

    # Ingest's durable queue keeps accepting uploads; they are delivered once indicators is back.
    second = http.post(
        "/v1/documents", files={"file": ("nghe-an-2023.txt", REPORT_2023.encode(), "text/plain")}
    )
    assert second.status_code == 202, second.text
    running.start("indicators")
    running.wait_ready(services=("indicators",))
    wait_for(http, second.json()["data"]["id"], "delivered")
    after = http.get(series)
    assert after.status_code == 200, after.text
    assert "X-Chiso-Stale" not in after.headers
    periods = [point["period"] for point in after.json()["data"]["observations"]]
    assert periods == ["2022", "2023"]
