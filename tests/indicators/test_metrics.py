"""Indicators' import metrics over real HTTP: batches by source and outcome, facts by result,
import time; a replayed, a dry-run and a refused batch each counted as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from tests.scrape import scrape_async
from tests.support import fact, service_headers, serving

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db, max_batch_facts=3)
    with serving(create_app(settings)) as url:
        headers = service_headers("indicators")
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            yield http


def batch(*facts: dict[str, object]) -> dict[str, object]:
    return {
        "documents": [{"name": "nghe-an-2023.txt", "published": "2023-12-20"}],
        "facts": list(facts),
    }


async def test_imports_are_counted_by_outcome_and_facts_by_result(
    client: httpx.AsyncClient,
) -> None:
    two = batch(fact(), fact(start=200, end=209, period="2022", text="3.000.000", value=3000000))
    key = {"Idempotency-Key": "k-1"}
    first = await client.post("/v1/facts", json=two, headers=key)
    assert (first.status_code, first.json()["imported"]) == (200, 2), first.text
    replay = await client.post("/v1/facts", json=two, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    dry = await client.post("/v1/facts", json=batch(fact(period="2021")), params={"dry_run": 1})
    assert dry.json()["dry_run"] is True
    too_many = await client.post("/v1/facts", json=batch(*[fact()] * 4))
    assert too_many.status_code == 422

    metrics = await scrape_async(client)
    batches = "chiso_indicators_import_batches_total"
    assert metrics.label_sets(batches) == {frozenset({"source", "outcome"})}
    assert metrics.value(batches, source="facts", outcome="imported") == 1
    assert metrics.value(batches, source="facts", outcome="replayed") == 1
    assert metrics.value(batches, source="facts", outcome="dry_run") == 1
    assert metrics.value(batches, source="facts", outcome="rejected") == 1
    assert metrics.value(batches, source="dhis2") == 0
    facts = "chiso_indicators_facts_imported_total"
    assert metrics.label_sets(facts) == {frozenset({"source", "result"})}
    # Only the written import: neither the replay nor the dry run imported anything.
    assert metrics.value(facts, source="facts", result="imported") == 2
    assert metrics.value(facts) == 2
    assert metrics.value("chiso_indicators_import_seconds_count", source="facts") == 4
    route = {"service": "indicators", "method": "POST", "route": "/v1/facts"}
    assert metrics.value("chiso_http_requests_total", **route, status="200") == 3
    assert metrics.value("chiso_http_requests_total", **route, status="422") == 1


async def test_a_dhis2_import_is_counted_under_its_source(client: httpx.AsyncClient) -> None:
    values = {
        "dataValues": [
            {
                "dataElement": "telecom.subscribers.total",
                "period": "2023",
                "orgUnit": "38",
                "categoryOptionCombo": "LEVEL_COUNT",
                "attributeOptionCombo": "ACTUAL",
                "value": "2980000",
            }
        ]
    }
    response = await client.post("/dhis2/api/dataValueSets", json=values)
    assert response.status_code == 200, response.text

    metrics = await scrape_async(client)
    batches = "chiso_indicators_import_batches_total"
    assert metrics.value(batches, source="dhis2", outcome="imported") == 1
    facts = "chiso_indicators_facts_imported_total"
    assert metrics.value(facts, source="dhis2", result="imported") == 1
    assert metrics.value(batches, source="facts") == 0
