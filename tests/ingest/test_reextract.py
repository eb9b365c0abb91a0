"""Re-extraction after the extractor's version changes: only the differences are delivered."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chiso_ingest import extraction
from chiso_ingest.db.models import OutboxMessage
from chiso_shared.db import create_engine
from chiso_shared.facts import Fact
from tests.support import service_headers

pytestmark = pytest.mark.asyncio
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao. "
    "Tổng số thuê bao Internet băng rộng cố định đạt 450.000 thuê bao."
)


REAL_EXTRACT = extraction.extract


def extract_v9(text: str, **kwargs: Any) -> list[Fact]:
    """A later extractor. Module-level: extraction runs in a child process, which gets the
    function by name."""
    facts = REAL_EXTRACT(text, **kwargs)
    extra = facts[0].model_copy(update={"value": facts[0].value + 1, "period": "2022"})
    relabelled = facts[0].model_copy(update={"label": "worded differently"})
    return [relabelled, *facts[1:-1], extra]


async def until_delivered(client: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    for _ in range(600):
        status = (await client.get(f"/v1/documents/{document_id}")).json()
        if status["status"] == "delivered":
            return dict(status)
        assert status["status"] != "failed", status
        await asyncio.sleep(0.05)
    raise AssertionError(f"not delivered: {status}")


async def served(indicators_url: str) -> set[tuple[str, str, float]]:
    """(indicator, period, value) of every current observation in indicators."""
    headers = service_headers("indicators")
    async with httpx.AsyncClient(base_url=indicators_url, headers=headers) as indicators:
        rows = (await indicators.get("/v1/observations", params={"limit": 100})).json()["items"]
    return {(row["indicator"], row["period"], row["value"]) for row in rows}


async def outbox(ingest_db: str) -> list[OutboxMessage]:
    engine = create_engine(ingest_db)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(OutboxMessage).order_by(OutboxMessage.id))
            return list(rows.all())  # type: ignore[arg-type]
    finally:
        await engine.dispose()


async def test_a_new_version_sends_only_the_differences(
    client: httpx.AsyncClient, ingest_db: str, indicators_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = (
        await client.post(
            "/v1/documents",
            files={"file": ("nghe-an.txt", REPORT.encode(), "text/plain")},
            data={"scope": "VN-40"},
        )
    ).json()
    first = await until_delivered(client, accepted["id"])
    assert first["extractor_version"] == extraction.EXTRACTOR_VERSION
    old_facts = (await client.get(f"/v1/documents/{accepted['id']}/facts")).json()["facts"]
    assert len(old_facts) >= 2

    assert await served(indicators_url) >= {
        (fact["indicator"], fact["period"], fact["value"]) for fact in old_facts
    }

    # Nothing to do while the version is unchanged.
    none = await client.post("/v1/documents/reextract")
    assert (none.status_code, none.json()["queued"]) == (202, [])

    # "Version 9" (extract_v9): finds one fact more, and no longer the last one version 1 found.
    monkeypatch.setattr(extraction, "EXTRACTOR_VERSION", "9.0.0")
    monkeypatch.setattr(extraction, "extract", extract_v9)
    queued = await client.post(f"/v1/documents/{accepted['id']}/reextract")
    assert queued.status_code == 202
    assert queued.json() == {"extractor_version": "9.0.0", "queued": [accepted["id"]]}

    second = await until_delivered(client, accepted["id"])
    assert (second["extractor_version"], second["fact_count"]) == ("9.0.0", len(old_facts))
    batches = await outbox(ingest_db)
    new_batches = [batch for batch in batches if ":9.0.0:" in batch.idempotency_key]
    sent = [fact for batch in new_batches for fact in batch.payload["facts"]]
    assert [(fact["period"], fact["value"]) for fact in sent] == [
        ("2022", old_facts[0]["value"] + 1)
    ]
    withdrawn = [fact for batch in new_batches for fact in batch.payload.get("withdrawn", [])]
    assert [(fact["start"], fact["value"]) for fact in withdrawn] == [
        (old_facts[-1]["start"], old_facts[-1]["value"])
    ]
    assert all(batch.status == "delivered" for batch in batches)

    # indicators now serves what version 9 read: the dropped value has no source left
    now = await served(indicators_url)
    assert (old_facts[-1]["indicator"], "2023", old_facts[-1]["value"]) not in now
    assert (old_facts[0]["indicator"], "2022", old_facts[0]["value"] + 1) in now
    assert (old_facts[0]["indicator"], "2023", old_facts[0]["value"]) in now

    again = await client.post("/v1/documents/reextract")
    assert again.json()["queued"] == []


async def test_reextracting_an_unknown_document_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/documents/nope/reextract")
    assert response.status_code == 404
    assert response.json()["code"] == "ingest.unknown_document"
