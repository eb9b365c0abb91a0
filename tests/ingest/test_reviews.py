"""Reviews in ingest: accept, correct, reject and add, each carried to indicators in one
outbox message; the history; the 4xx of bad reviews; a correction surviving a newer extractor
version; the review queue; the JSONL export."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chiso_ingest import extraction
from chiso_ingest.db.models import OutboxMessage
from chiso_shared.db import create_engine
from chiso_shared.facts import Fact
from chiso_shared.pagination import encode_cursor
from tests.ingest.test_reextract import outbox, until_delivered
from tests.support import service_headers

pytestmark = pytest.mark.asyncio
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao. "
    "Tổng số thuê bao Internet băng rộng cố định đạt 450.000 thuê bao.\n"
    "Số doanh nghiệp bưu chính đang hoạt động: 25.\n"
    "Toàn tỉnh có ba trăm trạm phát sóng mới."
)
REVIEWER = "ch_reviewer"
REAL_EXTRACT = extraction.extract


def extract_v9(text: str, **kwargs: Any) -> list[Fact]:
    """A later extractor that reads every value 1 higher (module-level: extraction runs in a
    child process, which gets the function by name)."""
    return [
        fact.model_copy(update={"value": fact.value + 1}) for fact in REAL_EXTRACT(text, **kwargs)
    ]


async def upload(
    client: httpx.AsyncClient, text: str = REPORT, name: str = "nghe-an.txt", **meta: str
) -> str:
    fields = {"scope": "VN-40", **meta} if "scope" not in meta else meta
    fields = {key: value for key, value in fields.items() if value}
    response = await client.post(
        "/v1/documents", files={"file": (name, text.encode(), "text/plain")}, data=fields
    )
    assert response.status_code == 202, response.text
    document_id = str(response.json()["id"])
    await until_delivered(client, document_id)
    return document_id


async def facts(client: httpx.AsyncClient, document_id: str) -> dict[str, dict[str, Any]]:
    response = await client.get(f"/v1/documents/{document_id}/facts")
    assert response.status_code == 200, response.text
    return {fact["text"]: fact for fact in response.json()["facts"]}


async def review(
    client: httpx.AsyncClient, document_id: str, at: dict[str, Any] | None = None, **body: Any
) -> httpx.Response:
    """POST a review of the fact `at` (its span), or of the span the body gives."""
    span = {"start": at["start"], "end": at["end"]} if at else {}
    return await client.post(
        f"/v1/documents/{document_id}/reviews", json={"reviewer": REVIEWER, **span, **body}
    )


async def reviewed(
    client: httpx.AsyncClient, document_id: str, at: dict[str, Any] | None = None, **body: Any
) -> dict[str, Any]:
    response = await review(client, document_id, at, **body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def served(indicators_url: str, area: str = "40") -> dict[tuple[str, str], Any]:
    """Indicators' current observations by (indicator, period): (value, its first source)."""
    headers = service_headers("indicators")
    async with httpx.AsyncClient(base_url=indicators_url, headers=headers) as indicators:
        response = await indicators.get("/v1/observations", params={"area": area, "limit": 100})
    assert response.status_code == 200, response.text
    return {
        (item["indicator"], item["period"]): (item["value"], item["sources"][0])
        for item in response.json()["items"]
    }


async def test_each_action_reaches_indicators_in_one_message(
    client: httpx.AsyncClient, ingest_db: str, indicators_url: str
) -> None:
    document_id = await upload(client)
    machine = await facts(client, document_id)
    phones, broadband, posts = machine["3.100.000"], machine["450.000"], machine["25"]
    assert "review" not in phones and posts["doubts"] == ["unit_inferred"]

    accepted = await reviewed(client, document_id, posts, action="accept", note="đúng")
    assert (accepted["action"], accepted["reviewer"], accepted["note"]) == (
        "accept",
        REVIEWER,
        "đúng",
    )
    assert accepted["before"] == posts
    after = accepted["after"]
    assert after["review"]["action"] == "accept" and after["review"]["by"] == REVIEWER
    # a person's word settles the extractor's doubts
    assert (after["value"], after["doubts"], after["confidence"]) == (25, [], 1.0)

    corrected = await reviewed(
        client, document_id, phones, action="correct", changes={"value": 3150000}
    )
    assert (corrected["before"]["value"], corrected["after"]["value"]) == (3100000, 3150000)
    rejected = await reviewed(client, document_id, broadband, action="reject")
    assert rejected["after"] is None and rejected["before"] == broadband
    words = REPORT.index("ba trăm")
    added = await reviewed(
        client,
        document_id,
        action="add",
        start=words,
        end=words + len("ba trăm"),
        fact={
            "value": 300,
            "unit": "count",
            "period": "2023",
            "indicator": "telecom.bts.total",
            "scope": "VN-40",
        },
    )
    assert (added["after"]["text"], added["after"]["doc"], added["before"]) == (
        "ba trăm",
        "nghe-an.txt",
        None,
    )

    # The document's facts are the effective ones now.
    now = await facts(client, document_id)
    assert set(now) == {"3.100.000", "25", "ba trăm"}
    assert now["3.100.000"]["value"] == 3150000
    assert now["3.100.000"]["review"]["action"] == "correct"

    # One message per review, withdrawing the fact it replaced and sending the one it made.
    messages = {m.idempotency_key: m.payload for m in await outbox(ingest_db)}
    for answer, withdrawn, sent in (
        (accepted, [posts], [accepted["after"]]),
        (corrected, [phones], [corrected["after"]]),
        (rejected, [broadband], []),
        (added, [], [added["after"]]),
    ):
        payload = messages[f"{document_id}:review:{answer['id']}"]
        assert (payload["withdrawn"], payload["facts"]) == (withdrawn, sent)

    await until_delivered(client, document_id)
    values = await served(indicators_url)
    assert values[("telecom.subscribers.total", "2023")][0] == 3150000
    source = values[("telecom.subscribers.total", "2023")][1]
    assert (source["reviewed_by"], source["review_action"]) == (REVIEWER, "correct")
    assert ("telecom.broadband_fixed.subscribers", "2023") not in values
    assert values[("telecom.bts.total", "2023")][0] == 300
    assert values[("postal.enterprises", "2023")][1]["review_action"] == "accept"

    # Every review, oldest first; a second review of a span supersedes the first.
    again = await reviewed(client, document_id, now["25"], action="correct", changes={"value": 26})
    assert again["before"] == accepted["after"]
    history = (await client.get(f"/v1/documents/{document_id}/reviews")).json()
    assert history["document_id"] == document_id
    assert [item["id"] for item in history["items"]] == sorted(
        answer["id"] for answer in (accepted, corrected, rejected, added, again)
    )
    assert history["items"][0] == accepted


async def test_a_correction_survives_a_newer_extractor_version(
    client: httpx.AsyncClient, ingest_db: str, indicators_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = await upload(client)
    machine = await facts(client, document_id)
    phones, broadband = machine["3.100.000"], machine["450.000"]
    await reviewed(client, document_id, phones, action="correct", changes={"value": 3150000})
    await until_delivered(client, document_id)

    monkeypatch.setattr(extraction, "EXTRACTOR_VERSION", "9.0.0")
    monkeypatch.setattr(extraction, "extract", extract_v9)
    queued = await client.post("/v1/documents/reextract")
    assert queued.json()["queued"] == [document_id]
    status = await until_delivered(client, document_id)
    assert status["extractor_version"] == "9.0.0"

    now = await facts(client, document_id)
    assert now["3.100.000"]["value"] == 3150000  # the person's word, not version 9's
    assert now["450.000"]["value"] == broadband["value"] + 1  # version 9's reading
    new_messages = [m for m in await outbox(ingest_db) if ":9.0.0:" in m.idempotency_key]
    touched = {
        fact["start"]
        for m in new_messages
        for fact in [*m.payload["facts"], *m.payload.get("withdrawn", [])]
    }
    assert phones["start"] not in touched and broadband["start"] in touched
    values = await served(indicators_url)
    assert values[("telecom.subscribers.total", "2023")][0] == 3150000
    assert values[("telecom.subscribers.total", "2023")][1]["reviewed_by"] == REVIEWER
    assert values[("telecom.broadband_fixed.subscribers", "2023")][0] == broadband["value"] + 1


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"action": "accept", "start": 1}, 404, "ingest.unknown_fact", "body.start"),
        ({"action": "reject", "start": 1}, 404, "ingest.unknown_fact", "body.start"),
        (
            {"action": "add", "fact": {"value": 1, "unit": "count", "period": "2023"}},
            409,
            "ingest.fact_exists",
            "body.start",
        ),
        ({"action": "accept", "end": 61}, 422, "ingest.invalid_review", "body.end"),
        (
            {"action": "accept", "changes": {"value": 1}},
            422,
            "ingest.invalid_review",
            "body.changes",
        ),
        ({"action": "correct"}, 422, "ingest.invalid_review", "body.changes"),
        ({"action": "correct", "changes": {}}, 422, "ingest.invalid_review", "body.changes"),
        (
            {"action": "correct", "changes": {"unit": "furlongs"}},
            422,
            "ingest.invalid",
            "body.changes.unit",
        ),
        (
            {"action": "correct", "changes": {"text": "x"}},
            422,
            "ingest.invalid",
            "body.changes.text",
        ),
        (
            {"action": "correct", "changes": {"value": None}},
            422,
            "ingest.invalid_review",
            "body.changes.value",
        ),
        (
            {"action": "correct", "changes": {"period": "2023-13"}},
            422,
            "ingest.invalid_review",
            "body.changes.period",
        ),
        (
            {"action": "correct", "changes": {"role": "change"}},
            422,
            "ingest.invalid_review",
            "body.changes",
        ),
        (
            {"action": "correct", "changes": {"indicator": "telecom.nope"}},
            422,
            "ingest.unknown_code",
            "body.changes.indicator",
        ),
        (
            {"action": "correct", "changes": {"scope": "VN-99"}},
            422,
            "ingest.unknown_code",
            "body.changes.scope",
        ),
        ({"action": "reject", "fact": {"value": 1}}, 422, "ingest.invalid_review", "body.fact"),
        ({"action": "bless"}, 422, "ingest.invalid", "body.action"),
        ({"action": "accept", "start": 70, "end": 60}, 422, "ingest.invalid", "body"),
        ({"action": "accept", "reviewer": ""}, 422, "ingest.invalid", "body.reviewer"),
    ],
)
async def test_a_bad_review_is_a_4xx_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    document_id = await upload(client)
    phones = (await facts(client, document_id))["3.100.000"]
    response = await review(client, document_id, phones, **body)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    assert field in [error["field"] for error in problem["errors"]], problem
    assert (await client.get(f"/v1/documents/{document_id}/reviews")).json()["items"] == []


@pytest.mark.parametrize(
    ("span", "fact", "field"),
    [
        (
            (len(REPORT) - 3, len(REPORT) + 2),
            {"value": 1, "unit": "count", "period": "2023"},
            "body.end",
        ),
        ((9, 10), {"value": 1, "unit": "count", "period": "2023"}, "body.end"),  # a space
        ((0, 4), {"unit": "count", "period": "2023"}, "body.fact.value"),
        (
            (0, 4),
            {"value": 1, "unit": "count", "period": "2023", "scope": "VN-99"},
            "body.fact.scope",
        ),
        ((0, 4), None, "body.fact"),
    ],
)
async def test_a_bad_addition_is_422(
    client: httpx.AsyncClient, span: tuple[int, int], fact: dict[str, Any] | None, field: str
) -> None:
    document_id = await upload(client)
    body: dict[str, Any] = {"action": "add", "start": span[0], "end": span[1], "fact": fact}
    response = await review(client, document_id, **body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_reviews_of_an_unknown_document_are_404(client: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {"action": "accept", "start": 0, "end": 1}
    for response in (
        await review(client, "nope", **body),
        await client.get("/v1/documents/nope/reviews"),
        await client.get("/v1/reviews/export", params={"document_id": "nope"}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "ingest.unknown_document"


SECOND = "Năm 2023, toàn tỉnh có 1.200 trạm BTS.\nSố điểm phục vụ bưu chính: 40."
THIRD = "Năm 2022, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.000.000 thuê bao."


async def whole_queue(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/reviews/queue", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return list(response.json()["items"])


async def test_the_queue_puts_the_most_doubtful_first(client: httpx.AsyncClient) -> None:
    first = await upload(client)
    second = await upload(client, SECOND, "khong-ro-tinh.txt", scope="")  # scope defaulted
    third = await upload(client, THIRD, "nghe-an-2022.txt")
    created = {first: 0, second: 1, third: 2}
    items = await whole_queue(client)
    assert len(items) == 6

    def rank(item: dict[str, Any]) -> tuple[float, int, int, int]:
        fact = item["fact"]
        return (
            fact["confidence"],
            -len(fact["doubts"]),
            -created[item["document_id"]],
            fact["start"],
        )

    assert [rank(item) for item in items] == sorted(rank(item) for item in items)
    assert [item["fact"]["text"] for item in items][:3] == ["40", "1.200", "25"]
    assert items[0]["filename"] == "khong-ro-tinh.txt"

    # Page by page with the cursor, the same order.
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/reviews/queue", params=params)).json()
        paged.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == items

    # A reviewed fact leaves the queue; filters narrow it.
    await reviewed(client, second, items[0]["fact"], action="accept")
    assert [item["fact"]["text"] for item in await whole_queue(client)][:2] == ["1.200", "25"]
    assert {item["document_id"] for item in await whole_queue(client, scope="VN-40")} == {
        first,
        third,
    }
    assert [item["fact"]["text"] for item in await whole_queue(client, document_id=second)] == [
        "1.200"
    ]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"cursor": "bm9wZQ"}, 400),
        ({"cursor": encode_cursor(["x", 1, "2026-01-01T00:00:00+00:00", "d", 1])}, 400),
        ({"cursor": encode_cursor(["0.5", 1, "yesterday", "d", 1])}, 400),
        ({"cursor": encode_cursor(["0.5", 1, "2026-01-01T00:00:00", "d", 1])}, 400),
        ({"limit": 501}, 422),
        ({"scope": "Hue"}, 422),
    ],
)
async def test_bad_queue_queries_are_4xx(
    client: httpx.AsyncClient, params: dict[str, Any], status: int
) -> None:
    response = await client.get("/v1/reviews/queue", params=params)
    assert response.status_code == status, response.text


async def test_the_export_is_guideline_jsonl_of_the_reviewed_facts(
    client: httpx.AsyncClient,
) -> None:
    document_id = await upload(client)
    machine = await facts(client, document_id)
    await reviewed(client, document_id, machine["25"], action="accept")
    await reviewed(
        client, document_id, machine["3.100.000"], action="correct", changes={"value": 3150000}
    )
    await reviewed(
        client, document_id, machine["3.100.000"], action="correct", changes={"status": "estimate"}
    )
    await reviewed(client, document_id, machine["450.000"], action="reject")
    other = await upload(client, THIRD, "nghe-an-2022.txt")
    await reviewed(client, other, (await facts(client, other))["3.000.000"], action="accept")

    response = await client.get("/v1/reviews/export", params={"document_id": document_id})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(line["text"], line["value"], line["status"]) for line in lines] == [
        ("3.100.000", 3150000, "estimate"),  # the latest correction only
        ("25", 25, "actual"),
    ]
    order = list(Fact.model_validate(lines[0]).to_jsonl_dict())
    assert all(list(line) == order for line in lines) and "review" not in order
    assert {line["doc"] for line in lines} == {"nghe-an.txt"}
    everything = (await client.get("/v1/reviews/export")).text.splitlines()
    assert len(everything) == 3 and json.loads(everything[-1])["doc"] == "nghe-an-2022.txt"


async def test_the_document_list_is_newest_first_with_review_counts(
    client: httpx.AsyncClient,
) -> None:
    first = await upload(client, uploaded_by="ch_officer")
    second = await upload(client, THIRD, "nghe-an-2022.txt")
    await reviewed(client, first, (await facts(client, first))["25"], action="reject")
    listed = (await client.get("/v1/documents")).json()
    assert [item["id"] for item in listed["items"]] == [second, first]
    assert listed["next_cursor"] is None
    newest, oldest = listed["items"]
    assert (oldest["uploaded_by"], oldest["reviewed_count"], oldest["fact_count"]) == (
        "ch_officer",
        1,
        3,
    )
    assert (newest["uploaded_by"], newest["reviewed_count"], newest["filename"]) == (
        None,
        0,
        "nghe-an-2022.txt",
    )
    assert set(newest) == {
        "id",
        "filename",
        "title",
        "status",
        "fact_count",
        "reviewed_count",
        "uploaded_by",
        "scope",
        "published",
        "extractor_version",
        "created_at",
        "updated_at",
    }
    assert (await client.get(f"/v1/documents/{first}")).json()["uploaded_by"] == "ch_officer"

    page = (await client.get("/v1/documents", params={"limit": 1})).json()
    assert [item["id"] for item in page["items"]] == [second]
    rest = (
        await client.get("/v1/documents", params={"limit": 1, "cursor": page["next_cursor"]})
    ).json()
    assert ([item["id"] for item in rest["items"]], rest["next_cursor"]) == ([first], None)
    await until_delivered(client, first)  # its review went to indicators
    delivered = await client.get("/v1/documents", params={"status": "delivered"})
    assert len(delivered.json()["items"]) == 2
    assert (await client.get("/v1/documents", params={"status": "failed"})).json()["items"] == []
    for params, status in (
        ({"cursor": "bm9wZQ"}, 400),
        ({"limit": 0}, 422),
        ({"status": "lost"}, 422),
    ):
        assert (await client.get("/v1/documents", params=params)).status_code == status


async def test_a_review_waits_for_delivery_before_the_document_is_delivered(
    client: httpx.AsyncClient, ingest_db: str
) -> None:
    document_id = await upload(client)
    phones = (await facts(client, document_id))["3.100.000"]
    await reviewed(client, document_id, phones, action="accept")
    status = await until_delivered(client, document_id)
    assert status["status"] == "delivered"
    engine = create_engine(ingest_db)
    try:
        async with engine.connect() as connection:
            keys = (
                await connection.execute(
                    select(OutboxMessage.idempotency_key, OutboxMessage.status)
                )
            ).all()
    finally:
        await engine.dispose()
    assert all(state == "delivered" for _, state in keys)


async def test_a_value_beyond_a_float_is_422(client: httpx.AsyncClient) -> None:
    """1e400 parses as infinity, which JSON (and so the database and indicators) cannot hold."""
    document_id = await upload(client)
    phones = (await facts(client, document_id))["3.100.000"]
    span = json.dumps({"action": "correct", "start": phones["start"], "end": phones["end"]})
    body = span[:-1] + ', "reviewer": "r", "changes": {"value": 1e400}}'
    response = await client.post(
        f"/v1/documents/{document_id}/reviews",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.changes.value"
