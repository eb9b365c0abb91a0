"""GET /v1/documents/{id}/facts: a document's facts through the gateway, in pages, with real
ingest and indicators services; readable by whoever may read the document view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import client_headers, gateway_settings
from tests.gateway.test_reviews import delivered
from tests.support import running

pytestmark = pytest.mark.asyncio
# A client agency's area, as the client register takes it (one place to change with the codes).
THANH_HOA = "38"
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"
    "Số doanh nghiệp bưu chính đang hoạt động: 25.\n"
    "Năm 2022, toàn tỉnh có 1.200 trạm BTS.\n"
    "Số thuê bao Internet băng rộng cố định đạt 450.000 thuê bao."
)


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str) -> Settings:
    return gateway_settings(
        tmp_path, gateway_db, indicators_url, ingest_url=ingest_url, document_facts_max_page_size=50
    )


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def _uploaded(gateway: httpx.AsyncClient, settings: Settings) -> str:
    _, writer = await client_headers(gateway, settings, "documents:write")
    files = {"file": ("nghe-an.txt", REPORT.encode(), "text/plain")}
    upload = await gateway.post(
        "/v1/documents", files=files, data={"scope": "VN-40"}, headers=writer
    )
    assert upload.status_code == 202, upload.text
    document_id = str(upload.json()["data"]["id"])
    await delivered(gateway, document_id, writer)
    return document_id


async def _all_pages(
    gateway: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[list[dict[str, Any]], int]:
    """Every fact, following `links.next` (checked against the Link header), and the pages."""
    facts: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = await gateway.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        facts += body["data"]
        assert body["meta"]["count"] == len(body["data"])
        next_url = body["links"]["next"]
        assert (next_url is None) == (body["meta"]["next_cursor"] is None)
        if next_url:
            assert response.headers["link"] == f'<{next_url}>; rel="next"'
        else:
            assert "link" not in response.headers
    return facts, pages


async def test_facts_come_in_pages_in_text_order_as_the_view_has_them(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    document_id = await _uploaded(gateway, settings)
    _, reader = await client_headers(gateway, settings, "indicators:read")
    view = (await gateway.get(f"/v1/documents/{document_id}/view", headers=reader)).json()
    # the view adds `review: null` to a fact no one reviewed; the facts read leaves fields be
    expected = [
        {name: value for name, value in fact.items() if name != "review" or value}
        for fact in view["data"]["facts"]
    ]
    assert len(expected) >= 3

    whole = await gateway.get(f"/v1/documents/{document_id}/facts", headers=reader)
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["data"] == sorted(expected, key=lambda fact: (fact["start"], fact["end"]))
    assert body["meta"]["total"] == len(expected)
    assert (body["meta"]["document_id"], body["links"]["next"]) == (document_id, None)
    assert body["meta"]["extractor_version"]
    assert {fact["scope"] for fact in body["data"]} == {"VN-40"}  # the extraction's field

    paged, pages = await _all_pages(gateway, f"/v1/documents/{document_id}/facts?limit=1", reader)
    assert paged == body["data"]
    assert pages == len(expected)


async def test_a_review_shows_and_a_rejected_fact_is_left_out(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    document_id = await _uploaded(gateway, settings)
    reviewer_id, reviewer = await client_headers(
        gateway, settings, "facts:review", name="Nguyễn Văn An"
    )
    url = f"/v1/documents/{document_id}/facts"
    first, second, *_ = (await gateway.get(url, headers=reviewer)).json()["data"]
    reviews = f"/v1/documents/{document_id}/reviews"
    for fact, action in ((first, "accept"), (second, "reject")):
        review = {"action": action, "start": fact["start"], "end": fact["end"]}
        assert (await gateway.post(reviews, json=review, headers=reviewer)).status_code == 201

    body = (await gateway.get(url, headers=reviewer)).json()
    spans = [(fact["start"], fact["end"]) for fact in body["data"]]
    assert (second["start"], second["end"]) not in spans
    accepted = body["data"][0]
    assert (accepted["start"], accepted["review"]["by"]) == (first["start"], reviewer_id)
    assert body["meta"]["people"] == {reviewer_id: "Nguyễn Văn An"}


async def test_facts_are_read_by_the_scopes_of_the_document_view(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    document_id = await _uploaded(gateway, settings)
    for scopes in (("indicators:read",), ("documents:write",), ("facts:review",), ("audit:read",)):
        _, headers = await client_headers(gateway, settings, *scopes)
        view = await gateway.get(f"/v1/documents/{document_id}/view", headers=headers)
        facts = await gateway.get(f"/v1/documents/{document_id}/facts", headers=headers)
        assert facts.status_code == view.status_code, scopes
    # a client of a province reads a document as it reads the document view
    _, provincial = await client_headers(gateway, settings, "indicators:read", area=THANH_HOA)
    view = await gateway.get(f"/v1/documents/{document_id}/view", headers=provincial)
    facts = await gateway.get(f"/v1/documents/{document_id}/facts", headers=provincial)
    assert facts.status_code == view.status_code
    assert (await gateway.get(f"/v1/documents/{document_id}/facts")).status_code == 401


async def test_bad_paging_and_unknown_documents_are_clear_4xx(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    _, reader = await client_headers(gateway, settings, "indicators:read")
    unknown = await gateway.get("/v1/documents/nope/facts", headers=reader)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "ingest.unknown_document")
    bad_cursor = await gateway.get("/v1/documents/nope/facts?cursor=abc", headers=reader)
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "gateway.bad_cursor")
    too_many = await gateway.get("/v1/documents/nope/facts?limit=51", headers=reader)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "query.limit"
    assert "tối đa" in too_many.json()["detail"]
    zero = await gateway.get("/v1/documents/nope/facts?limit=0", headers=reader)
    assert zero.status_code == 422


async def test_a_page_edge_between_facts_of_one_span_skips_none_and_repeats_none() -> None:
    from chiso_gateway.fact_pages import decoded, fact_page

    facts = [{"start": s, "end": e, "n": n} for n, (s, e) in enumerate([(9, 12), (0, 3), (0, 3)])]
    seen: list[int] = []
    position = None
    while True:
        page, cursor = fact_page(facts, 1, position)
        seen += [fact["n"] for fact in page]
        if cursor is None:
            break
        position = decoded(cursor)
    assert seen == [1, 2, 0]  # text order; facts of one span in ingest's order
    # a fact gone between two pages moves the next page no further than its span's end
    _, cursor = fact_page(facts, 2, None)
    assert cursor is not None
    remaining, _ = fact_page([facts[0], facts[1]], 10, decoded(cursor))
    assert [fact["n"] for fact in remaining] == [0]
