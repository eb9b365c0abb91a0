"""Data-quality flags through the gateway, with real ingest and indicators services: two
reports of Thanh Hóa that contradict each other (2023 states +9,5% on 2022, the levels give
+1%) raise a flag; it is read through `/v1/quality` (a client of another province does not
see it), leads the review queue with the facts it was read from, and a reviewer resolves it
(the resolver is the calling client; the resolution is audited with the flag). The queue
goes on without flags when indicators cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.auth.tokens import Principal
from chiso_gateway.main import create_app
from chiso_gateway.quality import queue_areas, visible_areas
from chiso_gateway.settings import Settings
from chiso_shared.errors import Forbidden
from tests.gateway.support import client_headers, gateway_settings
from tests.support import free_port, running

SUBSCRIBERS = "telecom.subscribers.total"
REPORTS = {
    "thanh-hoa-2022.txt": (
        "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2022\n\n"
        "Tổng số thuê bao trên toàn mạng năm 2022 đạt 1.000.000 thuê bao.\n"
    ),
    "thanh-hoa-2023.txt": (
        "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2023\n\n"
        "Tổng số thuê bao trên toàn mạng năm 2023 đạt 1.010.000 thuê bao, tăng 9,5% so với "
        "năm 2022.\nSố doanh nghiệp bưu chính đang hoạt động: 25.\n"
    ),
}


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url, ingest_url=ingest_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def upload(gateway: httpx.AsyncClient, writer: dict[str, str]) -> dict[str, str]:
    """Both reports, filed for Thanh Hóa, waited for until delivered: {filename: id}."""
    ids = {}
    for name, text in REPORTS.items():
        body = {"filename": name, "text": text, "scope": "VN-38"}
        answer = await gateway.post("/v1/documents", json=body, headers=writer)
        assert answer.status_code == 202, answer.text
        ids[name] = answer.json()["data"]["id"]
    for document_id in ids.values():
        for _ in range(600):
            status = (await gateway.get(f"/v1/documents/{document_id}", headers=writer)).json()
            if status["data"]["status"] == "delivered":
                break
            assert status["data"]["status"] != "failed", status
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"not delivered: {status}")
    return ids


async def one_flag(gateway: httpx.AsyncClient, reader: dict[str, str]) -> dict[str, Any]:
    """The flag the two reports raise (indicators checks on import, just after delivery)."""
    for _ in range(200):
        answer = await gateway.get("/v1/quality", params={"area": "38"}, headers=reader)
        assert answer.status_code == 200, answer.text
        if answer.json()["data"]:
            return dict(answer.json())
        await asyncio.sleep(0.05)
    raise AssertionError("no flag was raised")


@pytest.mark.asyncio
async def test_a_flag_is_read_queued_first_and_resolved(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    _, writer = await client_headers(gateway, settings, "documents:write")
    _, reader = await client_headers(gateway, settings, "indicators:read")
    reviewer_id, reviewer = await client_headers(
        gateway, settings, "facts:review", "indicators:read", area="38", name="Lê Thị Hoa"
    )
    _, elsewhere = await client_headers(gateway, settings, "indicators:read", area="40")
    ids = await upload(gateway, writer)

    answer = await one_flag(gateway, reader)
    (flag,) = answer["data"]
    assert (flag["rule"], flag["status"], flag["resolution"]) == ("change_vs_levels", "open", None)
    assert (flag["indicator"], flag["area"], flag["period"]) == (SUBSCRIBERS, "38", "2023")
    assert "9,5" in flag["message_vi"] and "9.5" in flag["message_en"]
    parts = {obs["part"]: obs for obs in flag["observations"]}
    assert {part: obs["value"] for part, obs in parts.items()} == {
        "stated": 9.5,
        "level": 1_010_000,
        "previous": 1_000_000,
    }
    assert answer["meta"]["count"] == 1
    assert answer["meta"]["counts"]["area"] == {"38": 1}
    assert answer["meta"]["counts"]["rule"] == {"change_vs_levels": 1}
    assert answer["links"]["next"] is None
    single = await gateway.get(f"/v1/quality/{flag['id']}", headers=reader)
    assert single.status_code == 200, single.text
    assert single.json()["data"]["key"] == flag["key"]

    # A client of another province sees none of Thanh Hóa's flags.
    theirs = await gateway.get("/v1/quality", headers=elsewhere)
    assert (theirs.status_code, theirs.json()["data"]) == (200, [])
    refused = await gateway.get("/v1/quality", params={"area": "38"}, headers=elsewhere)
    assert (refused.status_code, refused.json()["code"]) == (403, "gateway.area_forbidden")
    hidden = await gateway.get(f"/v1/quality/{flag['id']}", headers=elsewhere)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "gateway.unknown_flag")
    bad = await gateway.get("/v1/quality", params={"area": "Thanh Hóa"}, headers=reader)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "query.area")

    # The reviewer's queue (its agency serves Thanh Hóa) starts with the flag and the facts
    # it was read from; those facts are not listed again as unreviewed facts.
    queue = await gateway.get("/v1/reviews/queue", headers=reviewer)
    assert queue.status_code == 200, queue.text
    first, *rest = queue.json()["data"]
    assert (first["kind"], first["flag"]["id"]) == ("quality", flag["id"])
    shown = {(fact["filename"], fact["fact"]["text"], fact["part"]) for fact in first["facts"]}
    assert shown == {
        ("thanh-hoa-2023.txt", "9,5", "stated"),
        ("thanh-hoa-2023.txt", "1.010.000", "level"),
        ("thanh-hoa-2022.txt", "1.000.000", "previous"),
    }
    assert {fact["document_id"] for fact in first["facts"]} == set(ids.values())
    assert [(item["kind"], item["fact"]["text"]) for item in rest] == [("fact", "25")]
    assert queue.json()["meta"]["flags"] == 1
    assert "quality_unavailable" not in queue.json()["meta"]

    # Resolving: a bad body is a 422 problem; the resolver is the caller whatever it says.
    path = f"/v1/quality/{flag['id']}/resolution"
    level = parts["level"]["id"]
    for body in ({"action": "explain"}, {"action": "accept"}, {"action": "ignore"}):
        wrong = await gateway.post(path, json=body, headers=reviewer)
        assert wrong.status_code == 422, wrong.text
        assert wrong.headers["content-type"].startswith("application/problem+json")
    assert (await gateway.post(path, json={"action": "x"}, headers=reader)).status_code == 403
    resolved = await gateway.post(
        path, json={"action": "accept", "observation_id": level, "by": "x"}, headers=reviewer
    )
    assert resolved.status_code == 200, resolved.text
    done = resolved.json()
    assert done["data"]["status"] == "resolved"
    assert (done["data"]["resolution"]["by"], done["data"]["resolution"]["action"]) == (
        reviewer_id,
        "accept",
    )
    assert done["meta"]["people"] == {reviewer_id: "Lê Thị Hoa"}
    explained = {"action": "explain", "note": "Cách tính mới."}
    unknown = await gateway.post("/v1/quality/999999/resolution", json=explained, headers=reviewer)
    assert unknown.status_code == 404

    # Resolved, it leaves the queue and the open list; the resolved list has it, named.
    after = (await gateway.get("/v1/reviews/queue", headers=reviewer)).json()
    assert [item["kind"] for item in after["data"]] == ["fact"] * len(after["data"])
    assert after["meta"]["flags"] == 0
    assert (await gateway.get("/v1/quality", headers=reader)).json()["data"] == []
    past = await gateway.get("/v1/quality", params={"status": "resolved"}, headers=reader)
    assert [item["id"] for item in past.json()["data"]] == [flag["id"]]
    assert past.json()["meta"]["people"] == {reviewer_id: "Lê Thị Hoa"}

    await audited(gateway, settings, flag["id"], level)


async def audited(
    gateway: httpx.AsyncClient, settings: Settings, flag_id: int, observation_id: int
) -> None:
    """Each resolution POST's audit row names its flag, refused ones too."""
    _, auditor = await client_headers(gateway, settings, "audit:admin")
    rows = (await gateway.get("/v1/audit", params={"limit": 1000}, headers=auditor)).json()
    posts = [
        (row["status"], row["subject"])
        for row in rows["data"]
        if row["route"] == "/v1/quality/{flag_id}/resolution"
    ]
    subject = f"quality:{flag_id}"
    assert posts == [
        (422, subject),
        (422, subject),
        (422, subject),
        (403, ""),  # refused before the route ran: no subject
        (200, f"{subject} resolution:accept observation:{observation_id}"),
        (404, "quality:999999"),
    ]
    verified = (await gateway.get("/v1/audit/verify", headers=auditor)).json()["data"]
    assert verified["ok"] is True


@pytest.fixture
def no_indicators(
    tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str
) -> Settings:
    """A gateway whose indicators address answers nothing (ingest, and its own indicators,
    still run)."""
    dead = f"http://127.0.0.1:{free_port()}"
    return gateway_settings(tmp_path, gateway_db, dead, ingest_url=ingest_url)


@pytest.mark.asyncio
async def test_the_queue_goes_on_without_indicators(no_indicators: Settings) -> None:
    async with running(create_app(no_indicators)) as gateway:
        _, writer = await client_headers(gateway, no_indicators, "documents:write")
        _, reviewer = await client_headers(gateway, no_indicators, "facts:review", area="38")
        await upload(gateway, writer)
        queue = await gateway.get("/v1/reviews/queue", headers=reviewer)
        assert queue.status_code == 200, queue.text
        body = queue.json()
        assert body["meta"]["quality_unavailable"] is True
        assert body["meta"]["flags"] == 0
        texts = {item["fact"]["text"] for item in body["data"]}
        assert {"9,5", "1.010.000", "1.000.000", "25"} <= texts
        assert {item["kind"] for item in body["data"]} == {"fact"}
        down = await gateway.get("/v1/quality", headers=reviewer)
        assert down.status_code == 403  # facts:review alone does not read flags
        _, reader = await client_headers(gateway, no_indicators, "indicators:read")
        assert (await gateway.get("/v1/quality", headers=reader)).status_code == 502


def principal(area: str) -> Principal:
    return Principal(client_id="ch_x", org="", scopes=frozenset(), token_id="", area=area)


def test_which_areas_a_client_sees() -> None:
    assert visible_areas(principal(""), ["38", "VN"]) == ["38", "VN"]
    assert visible_areas(principal("VN"), []) == []  # the country's agency: every area
    assert visible_areas(principal("38"), []) == ["38"]
    assert visible_areas(principal("38"), ["38"]) == ["38"]
    with pytest.raises(Forbidden):
        visible_areas(principal("38"), ["38", "40"])
    # the queue: the asked scope, else the client's province; never another province's
    assert queue_areas(principal(""), None) == []
    assert queue_areas(principal(""), "40") == ["40"]
    assert queue_areas(principal("38"), None) == ["38"]
    assert queue_areas(principal("38"), "40") is None
    assert queue_areas(principal("VN"), "sub") is None
