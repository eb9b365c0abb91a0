"""Documents and reviews through the gateway, with real ingest and indicators services: the
uploader and the reviewer are the calling client, scopes are enforced, field errors pass
through, and each review is audited with its document and review id."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import client_headers, gateway_settings
from tests.support import running

pytestmark = pytest.mark.asyncio
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"
    "Số doanh nghiệp bưu chính đang hoạt động: 25."
)


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url, ingest_url=ingest_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def delivered(gateway: httpx.AsyncClient, document_id: str, headers: dict[str, str]) -> None:
    for _ in range(600):
        status = (await gateway.get(f"/v1/documents/{document_id}", headers=headers)).json()
        if status["data"]["status"] == "delivered":
            return
        assert status["data"]["status"] != "failed", status
        await asyncio.sleep(0.05)
    raise AssertionError(f"not delivered: {status}")


async def test_documents_and_reviews_through_the_gateway(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    officer, writer = await client_headers(gateway, settings, "documents:write")
    reviewer_id, reviewer = await client_headers(gateway, settings, "facts:review")
    _, reader = await client_headers(gateway, settings, "indicators:read")

    # The uploader is the client, whatever the body says (multipart and JSON alike).
    files = {"file": ("nghe-an.txt", REPORT.encode(), "text/plain")}
    form = {"scope": "VN-40", "uploaded_by": "someone-else"}
    upload = await gateway.post("/v1/documents", files=files, data=form, headers=writer)
    assert upload.status_code == 202, upload.text
    document_id = upload.json()["data"]["id"]
    # the status URL is the gateway's, never ingest's own address (in a cluster
    # http://ingest:8001/..., which no outside caller reaches)
    status_url = upload.json()["data"]["status_url"]
    assert status_url == f"http://testserver/v1/documents/{document_id}"
    assert status_url == upload.json()["links"]["self"]
    body = {
        "filename": "b.txt",
        "text": "Năm 2022, toàn tỉnh có 1.200 trạm BTS.",
        "uploaded_by": "x",
    }
    second = await gateway.post("/v1/documents", json=body, headers=writer)
    assert second.status_code == 202, second.text
    await delivered(gateway, document_id, writer)

    listed = await gateway.get("/v1/documents", params={"limit": 1}, headers=reviewer)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [item["uploaded_by"] for item in page["data"]] == [officer]
    assert page["meta"]["next_cursor"] and page["links"]["next"]
    rest = await gateway.get(page["links"]["next"], headers=writer)
    assert [item["id"] for item in rest.json()["data"]] == [document_id]
    assert rest.json()["data"][0]["uploaded_by"] == officer
    assert (await gateway.get("/v1/documents", headers=reader)).status_code == 403

    # The view: the document, its text and its facts, each with review null until reviewed.
    view = await gateway.get(f"/v1/documents/{document_id}/view", headers=reader)
    assert view.status_code == 200, view.text
    data = view.json()["data"]
    assert data["text"] == REPORT
    assert (data["document"]["uploaded_by"], data["document"]["scope"]) == (officer, "VN-40")
    facts = {fact["text"]: fact for fact in data["facts"]}
    assert facts["3.100.000"]["review"] is None
    phones = facts["3.100.000"]

    # A review: the reviewer is the client, whatever the body says.
    review = {
        "action": "correct",
        "start": phones["start"],
        "end": phones["end"],
        "changes": {"value": 3150000},
        "reviewer": "someone-else",
    }
    path = f"/v1/documents/{document_id}/reviews"
    assert (await gateway.post(path, json=review, headers=writer)).status_code == 403
    posted = await gateway.post(path, json=review, headers=reviewer)
    assert posted.status_code == 201, posted.text
    answer = posted.json()["data"]
    assert (answer["reviewer"], answer["after"]["value"]) == (reviewer_id, 3150000)
    assert answer["after"]["review"]["by"] == reviewer_id

    reviewed = (await gateway.get(f"/v1/documents/{document_id}/view", headers=reader)).json()
    now = {fact["text"]: fact for fact in reviewed["data"]["facts"]}
    assert (now["3.100.000"]["value"], now["3.100.000"]["review"]["action"]) == (3150000, "correct")
    history = (await gateway.get(path, headers=reviewer)).json()
    assert [item["id"] for item in history["data"]] == [answer["id"]]

    queue = await gateway.get("/v1/reviews/queue", params={"scope": "40"}, headers=reviewer)
    assert queue.status_code == 200, queue.text
    assert [item["fact"]["text"] for item in queue.json()["data"]] == ["25"]
    assert (await gateway.get("/v1/reviews/queue", headers=writer)).status_code == 403

    export = await gateway.get("/v1/reviews/export", headers=reviewer)
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/x-ndjson"
    (line,) = [json.loads(text) for text in export.text.splitlines()]
    assert (line["doc"], line["value"], "review" in line) == ("nghe-an.txt", 3150000, False)

    # Ingest's field errors reach the caller.
    bad = await gateway.post(
        path, json={**review, "changes": {"unit": "furlongs"}}, headers=reviewer
    )
    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["body.changes.unit"]
    missing = await gateway.post(path, json={**review, "start": 1}, headers=reviewer)
    assert (missing.status_code, missing.json()["code"]) == (404, "ingest.unknown_fact")
    unknown = await gateway.get("/v1/documents/nope/view", headers=reader)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "ingest.unknown_document")

    await audited(gateway, settings, document_id, answer["id"])


async def audited(
    gateway: httpx.AsyncClient, settings: Settings, document_id: str, review_id: int
) -> None:
    """The review POSTs' audit rows name their document, and the review when one was made."""
    _, auditor = await client_headers(gateway, settings, "audit:admin")
    rows = (await gateway.get("/v1/audit", params={"limit": 1000}, headers=auditor)).json()
    posts = [
        (row["status"], row["subject"])
        for row in rows["data"]
        if row["route"] == "/v1/documents/{document_id}/reviews" and row["method"] == "POST"
    ]
    subject = f"document:{document_id}"
    assert posts == [
        (403, ""),  # refused before the route ran: no subject
        (201, f"{subject} review:{review_id}"),
        (422, subject),
        (404, subject),
    ]
    verified = (await gateway.get("/v1/audit/verify", headers=auditor)).json()["data"]
    assert verified["ok"] is True


async def test_the_view_of_a_document_needs_a_reading_scope(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    _, auditor = await client_headers(gateway, settings, "audit:read")
    response = await gateway.get("/v1/documents/x/view", headers=auditor)
    assert response.status_code == 403
    assert (await gateway.get("/v1/documents/x/view")).status_code == 401


async def test_a_review_field_error_list_survives_the_hop() -> None:
    """`UpstreamError` keeps the upstream's field errors, and drops what is not one."""
    from multidict import CIMultiDict, CIMultiDictProxy

    from chiso_gateway.upstream import UpstreamError, UpstreamResponse

    body: dict[str, Any] = {
        "code": "ingest.invalid",
        "detail": "bad",
        "errors": [{"field": "body.end", "message": "past the end"}, {"nope": 1}, "x"],
    }
    response = UpstreamResponse(422, CIMultiDictProxy(CIMultiDict()), json.dumps(body).encode())
    error = UpstreamError(response)
    assert [(e.field, e.message) for e in error.errors] == [("body.end", "past the end")]
