"""A fact a person reviewed in ingest: its source keeps the mark, and its version is current
over every version without one, whatever their status or publication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from tests.support import fact, running

pytestmark = pytest.mark.asyncio
OLD = {"id": "d-old", "name": "nghe-an-2023.txt", "published": "2023-12-20"}
NEW = {"id": "d-new", "name": "nghe-an-2024-q1.txt", "published": "2024-03-01"}


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        yield http


def mark(action: str, at: datetime | None = None) -> dict[str, Any]:
    return {"action": action, "by": "ch_reviewer", "at": (at or datetime.now(UTC)).isoformat()}


async def post(client: httpx.AsyncClient, **batch: Any) -> dict[str, Any]:
    response = await client.post("/v1/facts", json={"facts": [], **batch})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def observations(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/observations", params={"indicator": "telecom.subscribers.total", **params}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def current_value(client: httpx.AsyncClient, **params: Any) -> float:
    (item,) = await observations(client, **params)
    return float(item["value"])


async def test_a_reviewed_version_beats_newer_and_higher_status_machine_ones(
    client: httpx.AsyncClient,
) -> None:
    machine = fact(doc=OLD["name"], status="estimate")
    newer = fact(doc=NEW["name"], value=3200000, text="3.200.000", start=40, end=49)
    await post(client, documents=[OLD, NEW], facts=[machine, newer])
    assert await current_value(client) == 3200000  # actual, and published later

    # The reviewer corrects the older report's estimate: one batch withdraws the machine's
    # reading of the span and adds the corrected fact.
    corrected = {**machine, "value": 3150000, "review": mark("correct")}
    summary = await post(client, documents=[OLD], facts=[corrected], withdrawn=[machine])
    assert summary["withdrawn"] == 1
    (item,) = await observations(client)
    assert (item["value"], item["status"]) == (3150000, "estimate")  # an estimate, and older
    (source,) = item["sources"]
    assert (source["document_id"], source["start"]) == ("d-old", machine["start"])
    assert (source["reviewed_by"], source["review_action"]) == ("ch_reviewer", "correct")
    assert source["reviewed_at"].startswith(corrected["review"]["at"][:19])

    # the series read serves the mark with the source too
    points = await client.get(
        "/v1/indicators/telecom.subscribers.total/series", params={"area": "40"}
    )
    (point,) = points.json()
    assert point["value"] == 3150000
    assert (point["sources"][0]["reviewed_by"], point["sources"][0]["review_action"]) == (
        "ch_reviewer",
        "correct",
    )

    # Rejected later: the reviewed fact is withdrawn and the machine's best stands again.
    await post(client, documents=[OLD], withdrawn=[corrected])
    assert await current_value(client) == 3200000
    history = await observations(client, include_history=True)
    unreviewed = [s for item in history for s in item["sources"] if s["reviewed_by"] is None]
    assert {s["document_id"] for s in unreviewed} == {"d-new"}


async def test_an_accept_withdrawn_and_added_in_one_batch_keeps_the_source_reviewed(
    client: httpx.AsyncClient,
) -> None:
    machine = fact(doc=OLD["name"])
    newer = fact(doc=NEW["name"], value=3200000, text="3.200.000", start=40, end=49)
    await post(client, documents=[OLD, NEW], facts=[machine, newer])
    before = datetime.now(UTC)

    accepted = {**machine, "review": mark("accept")}
    summary = await post(client, documents=[OLD], facts=[accepted], withdrawn=[machine])
    assert (summary["withdrawn"], summary["updated"], summary["imported"]) == (1, 1, 0)
    items = await observations(client, include_history=True)
    by_value = {item["value"]: item for item in items}
    (source,) = by_value[3100000]["sources"]
    assert (source["document_id"], source["start"]) == ("d-old", machine["start"])
    assert (source["reviewed_by"], source["review_action"]) == ("ch_reviewer", "accept")
    assert by_value[3100000]["is_current"] and not by_value[3200000]["is_current"]

    # The same review sent again changes nothing; as of before it, the newer report stood.
    again = await post(client, documents=[OLD], facts=[accepted])
    assert (again["ignored"], again["updated"]) == (1, 0)
    assert await current_value(client, as_of=before.isoformat()) == 3200000
    assert await current_value(client, as_of=datetime.now(UTC).isoformat()) == 3100000


async def test_a_half_review_mark_is_422(client: httpx.AsyncClient) -> None:
    bad = fact(review={"action": "reject", "by": "x", "at": datetime.now(UTC).isoformat()})
    response = await client.post("/v1/facts", json={"facts": [bad]})
    assert response.status_code == 422
    assert any(error["field"].endswith("review.action") for error in response.json()["errors"])
