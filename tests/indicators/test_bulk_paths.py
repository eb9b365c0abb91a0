"""The set-wise import and the plain-row read path give what the one-by-one rules and the
response models say, on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.observations.schemas import ObservationOut, Page
from chiso_indicators.settings import Settings
from tests.support import fact, running

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        yield http


async def post(client: httpx.AsyncClient, batch: dict[str, Any]) -> tuple[int, int, int]:
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 200, response.text
    summary = response.json()
    return summary["imported"], summary["updated"], summary["ignored"]


async def items(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/observations", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_one_batch_counts_as_if_applied_fact_by_fact(client: httpx.AsyncClient) -> None:
    batch = {
        "documents": [
            {"name": "a.txt", "published": "2023-12-20"},
            {"name": "b.txt", "published": "2024-01-15"},
        ],
        "facts": [
            fact(doc="a.txt", status="estimate", value=10),  # new value: imported
            fact(doc="a.txt", status="estimate", value=10),  # the same source again: ignored
            fact(doc="b.txt", status="estimate", value=10),  # a second source: updated
            fact(doc="b.txt", value=12, start=200, end=202),  # a second version: updated
            fact(doc="a.txt", period="2022", value=9),  # another new value: imported
        ],
    }
    assert await post(client, batch) == (2, 2, 1)
    assert await post(client, batch) == (0, 0, 5)
    level = {item["period"]: item for item in await items(client)}
    assert (level["2023"]["value"], level["2023"]["status"]) == (12, "actual")
    assert level["2023"]["published"] == "2024-01-15"
    assert level["2022"]["value"] == 9
    history = await items(client, start_period="2023", end_period="2023", include_history="true")
    estimate = next(item for item in history if item["status"] == "estimate")
    assert estimate["is_current"] is False
    assert [s["document_name"] for s in estimate["sources"]] == ["a.txt", "b.txt"]
    assert estimate["published"] == "2023-12-20"  # the earliest of its sources


async def test_an_earlier_source_moves_a_stored_version_back(client: httpx.AsyncClient) -> None:
    later = {
        "documents": [{"name": "b.txt", "published": "2024-02-01"}],
        "facts": [fact(doc="b.txt")],
    }
    earlier = {
        "documents": [{"name": "a.txt", "published": "2023-12-01"}],
        "facts": [fact(doc="a.txt")],
    }
    assert await post(client, later) == (1, 0, 0)
    assert await post(client, earlier) == (0, 1, 0)
    [item] = await items(client)
    assert item["published"] == "2023-12-01"
    assert [s["document_name"] for s in item["sources"]] == ["b.txt", "a.txt"]


async def test_versions_tied_on_the_rule_settle_the_same_way_in_any_order(
    client: httpx.AsyncClient,
) -> None:
    # Same status, publication and value: only `max` differs, which the rule does not rank.
    def tied(scope: str) -> list[dict[str, Any]]:
        return [fact(scope=scope), fact(scope=scope, max=6, start=400, end=403)]

    assert await post(client, {"facts": tied("VN-40")}) == (1, 1, 0)
    assert await post(client, {"facts": list(reversed(tied("VN-38")))}) == (1, 1, 0)
    current = {item["area"]: item["max"] for item in await items(client)}
    assert len(current) == 2
    assert current["40"] == current["38"]


async def test_json_page_is_exactly_what_the_models_serialise(client: httpx.AsyncClient) -> None:
    batch = {
        "documents": [{"name": "Báo cáo.txt", "published": "2023-12-20", "extractor_version": "9"}],
        "facts": [
            fact(doc="Báo cáo.txt", label='Tổng số thuê bao "di động"'),
            fact(doc="Báo cáo.txt", start=5, end=9, value=4.25, of=7, max=8.5, period="2022"),
            fact(doc="Báo cáo.txt", start=20, end=24, value=3, status="target", period="2024"),
        ],
    }
    await post(client, batch)
    pages: list[dict[str, str]] = [{}, {"include_history": "true", "limit": "2"}]
    for params in pages:
        response = await client.get("/v1/observations", params=params)
        page = Page[ObservationOut].model_validate_json(response.content)
        assert page.items
        assert response.content == page.model_dump_json().encode()


async def test_concurrent_imports_of_the_same_values_are_serialised(
    client: httpx.AsyncClient,
) -> None:
    """Replicas or routes importing at once: every batch lands, no version is stored twice,
    and each (series, period) ends with exactly one current version."""

    def batch(index: int) -> dict[str, Any]:
        doc = f"report-{index}.txt"
        return {
            "documents": [{"name": doc, "published": f"2024-01-{index + 10:02d}"}],
            "facts": [
                fact(doc=doc, scope=scope, period=period, value=100 + index % 2, status="estimate")
                for scope in ("VN-38", "VN-40", "VN-46")
                for period in ("2021", "2022", "2023")
            ],
        }

    responses = await asyncio.gather(
        *(client.post("/v1/facts", json=batch(index)) for index in range(6))
    )
    assert [response.status_code for response in responses] == [200] * 6
    summaries = [response.json() for response in responses]
    assert sum(summary["imported"] for summary in summaries) == 9  # 3 areas x 3 periods
    assert sum(summary["updated"] for summary in summaries) == 5 * 9
    history = await items(client, include_history="true")
    versions = {(item["area"], item["period"], item["value"]) for item in history}
    assert len(versions) == len(history) == 18  # two values per pair, each stored once
    current = [item for item in history if item["is_current"]]
    assert sorted((item["area"], item["period"]) for item in current) == sorted(
        (scope, period) for scope in ("38", "40", "46") for period in ("2021", "2022", "2023")
    )
    # the newest publication (report-5, value 101) wins everywhere, whatever the arrival order
    assert {item["value"] for item in current} == {101}


async def test_a_withdrawn_source_no_longer_supports_its_value(client: httpx.AsyncClient) -> None:
    estimate = fact(doc="a.txt", status="estimate", value=10)
    actual = fact(doc="b.txt", value=12, start=200, end=202)
    documents = [
        {"name": "a.txt", "published": "2023-12-20"},
        {"name": "b.txt", "published": "2024-03-01"},
    ]
    assert await post(client, {"documents": documents, "facts": [estimate, actual]}) == (1, 1, 0)
    [current] = await items(client)
    assert current["value"] == 12

    # b.txt, read again by a newer extractor, no longer states 12: the estimate is current again
    withdrawal = {"documents": documents[1:], "facts": [], "withdrawn": [actual]}
    response = await client.post("/v1/facts", json=withdrawal)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["withdrawn"], summary["ignored"]) == (1, 0)
    [current] = await items(client)
    assert (current["value"], current["status"]) == (10, "estimate")
    history = {item["value"]: item for item in await items(client, include_history="true")}
    assert history[12]["sources"] == [] and history[12]["is_current"] is False

    again = (await client.post("/v1/facts", json=withdrawal)).json()
    assert (again["withdrawn"], again["ignored"], again["revision"]) == (0, 1, summary["revision"])

    # the last source gone: the value has no current version at all
    last = {"documents": documents[:1], "facts": [], "withdrawn": [estimate]}
    assert (await client.post("/v1/facts", json=last)).json()["withdrawn"] == 1
    assert await items(client) == []
    # and a newer reading that finds it again brings it back
    assert await post(client, {"documents": documents[:1], "facts": [estimate]}) == (0, 1, 0)
    assert [item["value"] for item in await items(client)] == [10]


async def test_withdrawn_facts_with_unknown_codes_are_refused(client: httpx.AsyncClient) -> None:
    batch = {"facts": [], "withdrawn": [fact(indicator="no.such.indicator")]}
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.withdrawn.0.indicator"
