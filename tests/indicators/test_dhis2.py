"""DHIS2-style dataValueSets: export as JSON and CSV, import with dryRun and a summary."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from tests.support import running

pytestmark = pytest.mark.asyncio

URL = "/dhis2/api/dataValueSets"


def value(**overrides: Any) -> dict[str, Any]:
    base = {
        "dataElement": "telecom.subscribers.total",
        "period": "2023",
        "orgUnit": "38",
        "categoryOptionCombo": "LEVEL_COUNT",
        "attributeOptionCombo": "ACTUAL",
        "value": "2980000",
        "comment": "OBS_STATUS:E",
    }
    return {**base, **overrides}


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        yield http


async def test_import_then_export_round_trips(client: httpx.AsyncClient) -> None:
    payload = {
        "dataValues": [
            value(),
            value(period="2023Q4", value="2985000", comment=None),
            value(categoryOptionCombo="CHANGE_PREVIOUS_PERCENT", value="4.44"),
            value(attributeOptionCombo="TARGET", value="3000000", comment=None),
        ]
    }
    dry = await client.post(URL, params={"dryRun": "true"}, json=payload)
    assert dry.status_code == 200, dry.text
    assert dry.json()["importCount"] == {"imported": 4, "updated": 0, "ignored": 0, "deleted": 0}
    assert (await client.get(URL + ".json")).json()["dataValues"] == []

    first = (await client.post(URL, json=payload)).json()
    again = (await client.post(URL, json=payload)).json()
    assert (first["status"], first["importCount"]["imported"]) == ("SUCCESS", 4)
    assert again["importCount"] == {"imported": 0, "updated": 0, "ignored": 4, "deleted": 0}

    exported = (await client.get(URL, params={"orgUnit": "38", "period": "2023"})).json()
    rows = {
        (v["period"], v["categoryOptionCombo"], v["attributeOptionCombo"]): (
            v["value"],
            v["comment"],
        )
        for v in exported["dataValues"]
    }
    assert rows == {
        ("2023", "LEVEL_COUNT", "ACTUAL"): ("2980000", "OBS_STATUS:E"),
        ("2023", "CHANGE_PREVIOUS_PERCENT", "ACTUAL"): ("4.44", "OBS_STATUS:E"),
        ("2023", "LEVEL_COUNT", "TARGET"): ("3000000", "OBS_STATUS:F"),
    }
    as_csv = await client.get(URL + ".csv", params={"period": "2023Q4"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(as_csv.text))
    assert (row["dataelement"], row["period"], row["value"]) == (
        "telecom.subscribers.total",
        "2023Q4",
        "2985000",
    )


async def test_a_bad_value_rejects_the_whole_set(client: httpx.AsyncClient) -> None:
    payload = {
        "dataValues": [
            value(),
            value(period="2023W5"),
            value(orgUnit="99"),
            value(dataElement="nope"),
            value(value="many"),
            value(period="20230230"),  # of the right shape, but no such day
        ]
    }
    response = await client.post(URL, json=payload)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {
        "body.dataValues.1.period",
        "body.dataValues.2.orgUnit",
        "body.dataValues.3.dataElement",
        "body.dataValues.4.value",
        "body.dataValues.5.period",
    }
    assert (await client.get(URL + ".json")).json()["dataValues"] == []
    bad_period = await client.get(URL, params={"period": "2023-13"})
    assert bad_period.status_code == 422
    assert bad_period.json()["errors"][0]["field"] == "query.period.0"
    no_such_day = await client.get(URL, params={"period": "2023,20230230"})
    assert no_such_day.status_code == 422
    assert no_such_day.json()["errors"][0]["field"] == "query.period.1"
    scheme = await client.get(URL, params={"idScheme": "uid"})
    assert scheme.status_code == 422
