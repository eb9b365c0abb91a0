"""A correction over real HTTP: three service processes, a report in, a value corrected through
the gateway, the corrected value served with its reviewer, and still so after a newer
extractor version re-reads the report."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chiso.admin import create_client, gateway_settings
from chiso.suite import Suite, SuiteConfig
from tests.support import free_port, service_headers

pytestmark = pytest.mark.slow

REPORT = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH NGHỆ AN NĂM 2023\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Nghệ An ước đạt 3.120.000 thuê bao."
    "\nTổng số thuê bao Internet băng rộng cố định đạt 450.000 thuê bao.\n"
)
# Ingest as a later extractor version would run it: loaded by every Python process started
# with this folder on PYTHONPATH (the server and its extraction fork server alike), as the
# in-process tests monkeypatch `extraction` (tests/ingest/test_reextract.py).
LATER_VERSION = '''
from chiso_ingest import extraction

_read = extraction.extract


def extract_v9(text, **kwargs):
    """Version 9 reads every value 1000 higher."""
    return [fact.model_copy(update={"value": fact.value + 1000}) for fact in _read(text, **kwargs)]


extraction.EXTRACTOR_VERSION = "9.0.0"
extraction.extract = extract_v9
'''


@pytest.fixture
def suite(
    tmp_path: Path, ingest_db: str, indicators_db: str, gateway_db: str
) -> Iterator[tuple[Suite, httpx.Client, str]]:
    config = SuiteConfig(
        data_dir=tmp_path,
        gateway_port=free_port(),
        ingest_port=free_port(),
        indicators_port=free_port(),
        database_urls={"ingest": ingest_db, "indicators": indicators_db, "gateway": gateway_db},
        # no response cache: every series read below reaches indicators
        extra_env={"CHISO_GATEWAY_CACHE_TTL_SECONDS": "0"},
        log_level="INFO",
    )
    created = asyncio.run(
        create_client(
            "officer",
            ["documents:write", "indicators:read", "facts:review"],
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
        yield running, http, created.client_id


def wait_for(http: httpx.Client, document_id: str, version: str | None = None) -> dict[str, Any]:
    """The document's status once delivered (by `version`, when given)."""
    deadline = time.monotonic() + 60
    while True:
        body = http.get(f"/v1/documents/{document_id}").json()["data"]
        if body["status"] == "delivered" and version in (None, body["extractor_version"]):
            return dict(body)
        assert body["status"] != "failed", body
        assert time.monotonic() < deadline, f"still {body['status']} after 60s"
        time.sleep(0.1)


def current(http: httpx.Client, indicator: str) -> dict[str, Any]:
    series = http.get(f"/v1/indicators/{indicator}/series", params={"area": "40"})
    assert series.status_code == 200, series.text
    (point,) = series.json()["data"]["observations"]
    return dict(point)


def test_a_correction_is_served_and_survives_a_newer_extractor(
    suite: tuple[Suite, httpx.Client, str], tmp_path: Path
) -> None:
    running, http, officer = suite
    upload = http.post("/v1/documents", files={"file": ("nghe-an-2023.txt", REPORT.encode())})
    assert upload.status_code == 202, upload.text
    document_id = upload.json()["data"]["id"]
    wait_for(http, document_id)
    facts = http.get(f"/v1/documents/{document_id}/view").json()["data"]["facts"]
    phones = next(fact for fact in facts if fact["text"] == "3.120.000")

    corrected = http.post(
        f"/v1/documents/{document_id}/reviews",
        json={
            "action": "correct",
            "start": phones["start"],
            "end": phones["end"],
            "changes": {"value": 3125000},
        },
    )
    assert corrected.status_code == 201, corrected.text
    wait_for(http, document_id)
    point = current(http, "telecom.subscribers.total")
    assert (point["period"], point["value"], point["status"]) == ("2023", 3125000, "estimate")
    (source,) = point["sources"]
    assert (source["reviewed_by"], source["review_action"]) == (officer, "correct")
    assert REPORT[source["start"] : source["end"]] == "3.120.000"

    # Ingest restarted as extractor version 9, which reads every value 1000 higher; the
    # reports an older version read are re-extracted.
    later = tmp_path / "later-extractor"
    later.mkdir()
    (later / "sitecustomize.py").write_text(LATER_VERSION, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(later), os.environ.get("PYTHONPATH")]))
    running.stop("ingest")
    running.config = dataclasses.replace(
        running.config, extra_env={**running.config.extra_env, "PYTHONPATH": path}
    )
    running.start("ingest")
    running.wait_ready(services=("ingest",))
    headers = service_headers("ingest", secret=running.config.token_secret())
    queued = httpx.post(f"{running.config.url('ingest')}/v1/documents/reextract", headers=headers)
    assert queued.json() == {"extractor_version": "9.0.0", "queued": [document_id]}
    wait_for(http, document_id, version="9.0.0")

    # Version 9's reading where no one reviewed; the person's correction where one did.
    assert current(http, "telecom.broadband_fixed.subscribers")["value"] == 451000
    point = current(http, "telecom.subscribers.total")
    assert point["value"] == 3125000
    assert [source["reviewed_by"] for source in point["sources"]] == [officer]
    # ... and version 9's reading of the reviewed span was never sent: every source of the
    # span, in every version of the value, is the reviewed one.
    history = http.get(
        "/v1/observations",
        params={
            "indicator": "telecom.subscribers.total",
            "area": "40",
            "include_history": "true",
        },
    ).json()["data"]
    at_span = [
        (item["value"], source["reviewed_by"])
        for item in history
        for source in item["sources"]
        if source["start"] == phones["start"]
    ]
    assert at_span == [(3125000, officer)]
    view = http.get(f"/v1/documents/{document_id}/view").json()["data"]
    assert view["document"]["extractor_version"] == "9.0.0"
    values = {fact["text"]: (fact["value"], fact["review"]) for fact in view["facts"]}
    assert values["3.120.000"][0] == 3125000 and values["3.120.000"][1]["by"] == officer
    assert values["450.000"] == (451000, None)
