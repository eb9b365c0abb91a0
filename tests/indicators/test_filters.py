"""/v1/observations filters added for analysts: as_of, last_n, measure=target for plan figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from alembic import command
from sqlalchemy import text

from chiso_indicators.db import MIGRATIONS, VERSION_TABLE
from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.db import alembic_config, create_engine
from tests.support import running

pytestmark = pytest.mark.asyncio


def fact(period: str, value: float, status: str = "actual", **extra: Any) -> dict[str, Any]:
    return {
        "doc": f"report-{period}-{status}.txt",
        "start": 10,
        "end": 19,
        "text": str(value),
        "value": value,
        "unit": "count",
        "role": "level",
        "period": period,
        "status": status,
        "indicator": "telecom.subscribers.total",
        "scope": "VN-38",
        **extra,
    }


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        yield http


async def values(client: httpx.AsyncClient, **params: Any) -> list[tuple[str, float, str]]:
    response = await client.get(
        "/v1/observations", params={"indicator": "telecom.subscribers.total", **params}
    )
    assert response.status_code == 200, response.text
    return [(i["period"], i["value"], i["status"]) for i in response.json()["items"]]


async def post(client: httpx.AsyncClient, *facts: dict[str, Any]) -> None:
    response = await client.post("/v1/facts", json={"facts": list(facts)})
    assert response.status_code == 200, response.text


async def test_as_of_shows_what_was_current_then(client: httpx.AsyncClient) -> None:
    await post(client, fact("2023", 2980000, "estimate"))
    between = datetime.now(UTC)
    await post(client, fact("2023", 2990000, "actual"))
    assert await values(client) == [("2023", 2990000, "actual")]
    assert await values(client, as_of=between.isoformat()) == [("2023", 2980000, "estimate")]
    assert await values(client, as_of="2000-01-01T00:00:00Z") == []
    history = await values(client, as_of=between.isoformat(), include_history=True)
    assert history == [("2023", 2980000, "estimate")]


async def test_as_of_after_a_withdrawal_leaves_the_withdrawn_version_out(
    client: httpx.AsyncClient,
) -> None:
    actual = fact("2023", 2990000, "actual")
    await post(client, fact("2023", 2980000, "estimate"), actual)
    before = datetime.now(UTC).isoformat()
    withdrawal = await client.post("/v1/facts", json={"facts": [], "withdrawn": [actual]})
    assert withdrawal.json()["withdrawn"] == 1
    after = datetime.now(UTC).isoformat()

    assert await values(client, as_of=before) == [("2023", 2990000, "actual")]
    assert await values(client, as_of=after) == [("2023", 2980000, "estimate")]
    history = await values(client, as_of=after, include_history=True)
    assert history == [("2023", 2980000, "estimate")]
    assert len(await values(client, as_of=before, include_history=True)) == 2

    # Cited again: current from then on, still withdrawn in between.
    await post(client, actual)
    now = datetime.now(UTC).isoformat()
    assert await values(client, as_of=now) == [("2023", 2990000, "actual")]
    assert await values(client, as_of=after) == [("2023", 2980000, "estimate")]
    assert await values(client) == [("2023", 2990000, "actual")]


async def test_upgrading_records_versions_already_without_sources_as_withdrawn(
    tmp_path: Path, indicators_db: str
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    actual = fact("2023", 2990000, "actual")
    async with running(create_app(settings)) as http:
        await post(http, fact("2023", 2980000, "estimate"), actual)
        await http.post("/v1/facts", json={"facts": [], "withdrawn": [actual]})
    before = datetime.now(UTC).isoformat()
    # Back to before withdrawals were recorded, then up again, as a deployment upgrades.
    config = alembic_config(MIGRATIONS, indicators_db, VERSION_TABLE)
    await asyncio.to_thread(command.downgrade, config, "9b1d3c2e7f40")
    await asyncio.to_thread(command.upgrade, config, "head")

    engine = create_engine(indicators_db)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT o.value, w.restored_at FROM withdrawals w "
                    "JOIN observations o ON o.id = w.observation_id"
                )
            )
            assert [tuple(row) for row in rows] == [(2990000, None)]
    finally:
        await engine.dispose()
    async with running(create_app(settings)) as http:
        now = datetime.now(UTC).isoformat()
        assert await values(http, as_of=now) == [("2023", 2980000, "estimate")]
        # When it was withdrawn was not recorded: before the upgrade it still counts.
        assert await values(http, as_of=before) == [("2023", 2990000, "actual")]


async def test_last_n_keeps_the_latest_periods_of_each_series(client: httpx.AsyncClient) -> None:
    await post(
        client,
        *(fact(str(year), 1000 + year) for year in range(2018, 2024)),
        fact("2023", 5, scope="VN-46"),
    )
    assert [v[0] for v in await values(client, area="38", last_n=2)] == ["2022", "2023"]
    both = await values(client, last_n=1)
    assert sorted(both) == [("2023", 5, "actual"), ("2023", 3023, "actual")]
    assert [v[0] for v in await values(client, last_n=2, end_period="2020")] == ["2019", "2020"]
    response = await client.get("/v1/observations", params={"last_n": 0})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.last_n"


async def test_a_target_is_its_own_series_not_a_status(client: httpx.AsyncClient) -> None:
    await post(client, fact("2023", 2980000, "estimate"), fact("2023", 3000000, "target"))
    assert await values(client, measure="target") == [("2023", 3000000, "target")]
    assert await values(client, measure="actual") == [("2023", 2980000, "estimate")]


async def test_one_batch_with_two_versions_and_a_corroboration(client: httpx.AsyncClient) -> None:
    estimate = fact("2023", 2980000, "estimate")
    actual = fact("2023", 2990000, "actual")
    again = {**actual, "doc": "another-report.txt", "start": 70, "end": 79}
    response = await client.post("/v1/facts", json={"facts": [actual, estimate, again]})
    summary = response.json()
    assert (summary["imported"], summary["updated"], summary["ignored"]) == (1, 2, 0)
    page = (await client.get("/v1/observations", params={"include_history": "true"})).json()
    by_value = {item["value"]: item for item in page["items"]}
    assert by_value[2990000]["is_current"] and not by_value[2980000]["is_current"]
    assert len(by_value[2990000]["sources"]) == 2
