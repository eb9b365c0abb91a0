"""DHIS2-style dataValueSets, as DHIS2 clients send them: the set-level and value-level forms of
DHIS2's Web API docs ("Sending data values", "Sending bulks of data values"), valid values
imported beside per-value conflicts, WebMessage answers, dry runs; export as JSON and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from http import HTTPStatus
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
# Area codes as the service writes them (CONTRACT19: one place to flip them).
THANH_HOA = "38"
NGHE_AN = "40"
NO_SUCH_AREA = "99"
COUNTRY = "VN"
LEGACY_THANH_HOA = "VN-38"  # chiso's former code, accepted for one release
SUBSCRIBERS = "telecom.subscribers.total"
SMARTPHONE_SHARE = "telecom.smartphone.subscriber_share"  # an indicator in percent


def value(**overrides: Any) -> dict[str, Any]:
    base = {
        "dataElement": SUBSCRIBERS,
        "period": "2023",
        "orgUnit": THANH_HOA,
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


async def exported(client: httpx.AsyncClient, **params: str) -> dict[tuple[str, ...], str]:
    response = await client.get(URL + ".json", params=params)
    assert response.status_code == 200, response.text
    return {
        (v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"]): v["value"]
        for v in response.json()["dataValues"]
    }


def assert_web_message(response: httpx.Response, code: int, status: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert (body["httpStatusCode"], body["status"]) == (code, status)
    assert body["httpStatus"] == HTTPStatus(code).phrase  # "OK", "Conflict", "Bad Request"
    assert body["message"]
    return body


async def test_the_set_level_form_with_one_bad_value(client: httpx.AsyncClient) -> None:
    """DHIS2's "Sending data values" example: dataSet, completeDate, period and orgUnit on the
    set; the values name only their data element (and here their combo) and value."""
    payload = {
        "dataSet": "CHISO_YEARLY",
        "completeDate": "2024-02-03",
        "period": "2023",
        "orgUnit": THANH_HOA,
        "dataValues": [
            {"dataElement": SUBSCRIBERS, "value": "2980000"},
            {"dataElement": "telecom.no_such_thing", "value": "14"},
            {
                "dataElement": SUBSCRIBERS,
                "categoryOptionCombo": "CHANGE_PREVIOUS_PERCENT",
                "value": "4.44",
            },
        ],
    }
    body = assert_web_message(await client.post(URL, json=payload), 409, "WARNING")
    summary = body["response"]
    assert summary["responseType"] == "ImportSummary"
    assert summary["status"] == "WARNING"
    assert summary["importCount"] == {"imported": 2, "updated": 0, "ignored": 1, "deleted": 0}
    assert summary["conflicts"] == [
        {
            "object": "telecom.no_such_thing",
            "objects": {"dataElement": "telecom.no_such_thing"},
            "value": summary["conflicts"][0]["value"],
            "errorCode": "E7610",
            "property": "dataElement",
            "indexes": [1],
        }
    ]
    assert "Data element not found" in summary["conflicts"][0]["value"]
    assert "Không tìm thấy" in summary["conflicts"][0]["value"]
    assert summary["rejectedIndexes"] == [1]
    assert summary["dataSetComplete"] == "2024-02-03"
    assert isinstance(summary["revision"], int)
    # The values took the set's period and org unit; the default combo is the level.
    assert await exported(client) == {
        (SUBSCRIBERS, "2023", THANH_HOA, "LEVEL_COUNT"): "2980000",
        (SUBSCRIBERS, "2023", THANH_HOA, "CHANGE_PREVIOUS_PERCENT"): "4.44",
    }


async def test_the_value_level_form_reports_each_bad_value(client: httpx.AsyncClient) -> None:
    """DHIS2's "Sending bulks of data values" form: period and orgUnit on each value."""
    payload = {
        "dataValues": [
            {"dataElement": SUBSCRIBERS, "period": "202301", "orgUnit": THANH_HOA, "value": "12"},
            {"dataElement": SUBSCRIBERS, "period": "2023W5", "orgUnit": THANH_HOA, "value": "14"},
            {"dataElement": SUBSCRIBERS, "period": "2023", "orgUnit": NO_SUCH_AREA, "value": "1"},
            {"dataElement": SUBSCRIBERS, "period": "202302", "orgUnit": NGHE_AN, "value": "many"},
            {"dataElement": SUBSCRIBERS, "period": "2022", "orgUnit": NO_SUCH_AREA, "value": "2"},
            value(period="20230230"),  # of the right shape, but no such day
            value(comment="OBS_STATUS:X"),
            value(categoryOptionCombo="LEVEL_LITRES"),
            value(attributeOptionCombo="FORECAST"),
            {"dataElement": SUBSCRIBERS, "period": "2023Q4", "orgUnit": NGHE_AN, "value": 16},
            value(value="NaN"),  # not a number DHIS2 stores, though Python's float() reads it
            value(value="1e400"),  # beyond a double
        ]
    }
    body = assert_web_message(await client.post(URL, json=payload), 409, "WARNING")
    summary = body["response"]
    assert summary["importCount"] == {"imported": 2, "updated": 0, "ignored": 10, "deleted": 0}
    found = {
        (c["errorCode"], c["property"], c["object"]): c["indexes"] for c in summary["conflicts"]
    }
    assert found == {
        ("E7611", "period", "2023W5"): [1],
        # One conflict per offending identifier, listing every value it hit.
        ("E7612", "orgUnit", NO_SUCH_AREA): [2, 4],
        ("E7619", "value", "many"): [3],
        ("E7619", "value", "NaN"): [10],
        ("E7619", "value", "1e400"): [11],
        ("E7611", "period", "20230230"): [5],
        ("E7620", "comment", "OBS_STATUS:X"): [6],
        ("E7613", "categoryOptionCombo", "LEVEL_LITRES"): [7],
        ("E7615", "attributeOptionCombo", "FORECAST"): [8],
    }
    assert summary["rejectedIndexes"] == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert await exported(client) == {
        (SUBSCRIBERS, "202301", THANH_HOA, "LEVEL_COUNT"): "12",
        (SUBSCRIBERS, "2023Q4", NGHE_AN, "LEVEL_COUNT"): "16",
    }


async def test_a_set_dhis2_refuses_whole(client: httpx.AsyncClient) -> None:
    """An unknown data set, or org unit given on the set, is an ERROR: nothing is imported."""
    for key, given, code in (
        ("dataSet", "pBOMPrpg1QX", "E7600"),
        ("orgUnit", NO_SUCH_AREA, "E7603"),
        ("attributeOptionCombo", "FORECAST", "E7604"),
    ):
        payload = {
            "period": "2023",
            key: given,
            "dataValues": [{"dataElement": SUBSCRIBERS, "value": "1"}] * 2,
        }
        body = assert_web_message(await client.post(URL, json=payload), 409, "ERROR")
        summary = body["response"]
        assert summary["status"] == "ERROR"
        assert summary["importCount"] == {"imported": 0, "updated": 0, "ignored": 2, "deleted": 0}
        (conflict,) = summary["conflicts"]
        assert (conflict["errorCode"], conflict["object"], conflict["property"]) == (
            code,
            given,
            key,
        )
        assert summary["rejectedIndexes"] == [0, 1]
        assert "revision" not in summary
    assert await exported(client) == {}


async def test_import_then_export_round_trips(client: httpx.AsyncClient) -> None:
    payload = {
        "dataValues": [
            value(),
            value(period="2023Q4", value="2985000", comment=None),
            value(categoryOptionCombo="CHANGE_PREVIOUS_PERCENT", value="4.44"),
            value(attributeOptionCombo="TARGET", value="3000000", comment=None),
            # DHIS2's default combos: the level in the indicator's own unit, actual.
            value(
                dataElement=SMARTPHONE_SHARE,
                categoryOptionCombo="default",
                attributeOptionCombo="default",
                value="81.5",
                comment=None,
            ),
        ]
    }
    first = assert_web_message(await client.post(URL, json=payload), 200, "OK")
    assert first["message"].startswith("Import was successful.")
    assert first["response"]["status"] == "SUCCESS"
    assert first["response"]["importCount"]["imported"] == 5
    assert first["response"]["conflicts"] == []
    again = assert_web_message(await client.post(URL, json=payload), 200, "OK")
    assert again["response"]["importCount"] == {
        "imported": 0,
        "updated": 0,
        "ignored": 5,
        "deleted": 0,
    }
    assert again["response"]["revision"] == first["response"]["revision"]

    response = await client.get(URL, params={"orgUnit": THANH_HOA, "period": "2023"})
    rows = {
        (v["dataElement"], v["categoryOptionCombo"], v["attributeOptionCombo"]): (
            v["value"],
            v["comment"],
        )
        for v in response.json()["dataValues"]
    }
    assert rows == {
        (SUBSCRIBERS, "LEVEL_COUNT", "ACTUAL"): ("2980000", "OBS_STATUS:E"),
        (SUBSCRIBERS, "CHANGE_PREVIOUS_PERCENT", "ACTUAL"): ("4.44", "OBS_STATUS:E"),
        (SUBSCRIBERS, "LEVEL_COUNT", "TARGET"): ("3000000", "OBS_STATUS:F"),
        (SMARTPHONE_SHARE, "LEVEL_PERCENT", "ACTUAL"): ("81.5", "OBS_STATUS:A"),
    }
    as_csv = await client.get(URL + ".csv", params={"period": "2023Q4"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(as_csv.text))
    assert (row["dataelement"], row["period"], row["value"]) == (SUBSCRIBERS, "2023Q4", "2985000")


async def test_a_dry_run_writes_nothing_and_claims_no_revision(client: httpx.AsyncClient) -> None:
    before = (await client.get("/v1/revision")).json()["revision"]
    payload = {"dataValues": [value(), value(orgUnit=NO_SUCH_AREA)]}
    dry = await client.post(URL, params={"dryRun": "true"}, json=payload)
    summary = assert_web_message(dry, 409, "WARNING")["response"]
    assert summary["importOptions"]["dryRun"] is True
    assert summary["importCount"] == {"imported": 1, "updated": 0, "ignored": 1, "deleted": 0}
    assert "revision" not in summary
    assert (await client.get("/v1/revision")).json()["revision"] == before
    assert await exported(client) == {}
    # The same set for real makes the revision it reports.
    real = (await client.post(URL, json=payload)).json()["response"]
    assert real["revision"] == (await client.get("/v1/revision")).json()["revision"] > before


async def test_uids_of_the_metadata_work_as_identifiers(client: httpx.AsyncClient) -> None:
    elements = (
        await client.get("/dhis2/api/dataElements", params={"paging": "false", "fields": "id,code"})
    ).json()
    units = (
        await client.get(
            "/dhis2/api/organisationUnits", params={"paging": "false", "fields": "id,code"}
        )
    ).json()
    combos = (
        await client.get(
            "/dhis2/api/categoryOptionCombos", params={"paging": "false", "fields": "id,code"}
        )
    ).json()
    element = {e["code"]: e["id"] for e in elements["dataElements"]}[SUBSCRIBERS]
    unit = {u["code"]: u["id"] for u in units["organisationUnits"]}[THANH_HOA]
    combo = {c["code"]: c["id"] for c in combos["categoryOptionCombos"]}
    payload = {
        "dataValues": [
            {
                "dataElement": element,
                "period": "2023",
                "orgUnit": unit,
                "categoryOptionCombo": combo["default"],
                "attributeOptionCombo": combo["ACTUAL"],
                "value": "2980000",
            }
        ]
    }
    response = await client.post(URL, params={"idScheme": "uid"}, json=payload)
    options = assert_web_message(response, 200, "OK")["response"]["importOptions"]
    assert options["idSchemes"] == {"idScheme": "UID"}
    (out,) = (await client.get(URL, params={"idScheme": "uid"})).json()["dataValues"]
    assert (out["dataElement"], out["orgUnit"], out["categoryOptionCombo"]) == (
        element,
        unit,
        combo["LEVEL_COUNT"],
    )
    assert out["attributeOptionCombo"] == combo["ACTUAL"]


@pytest.mark.parametrize(
    "body",
    [
        {"dataValues": "not a list"},
        {"period": "2023"},  # no dataValues at all
        [value()],  # a list, not a data value set
    ],
)
async def test_a_malformed_set_is_a_400_web_message(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post(URL, json=body)
    message = assert_web_message(response, 400, "ERROR")
    assert message["devMessage"] == "indicators.dhis2_bad_request"
    assert "Yêu cầu không hợp lệ" in message["message"]
    assert message["errors"][0]["field"].startswith("body")
    assert await exported(client) == {}


async def test_export_errors_are_web_messages(client: httpx.AsyncClient) -> None:
    bad_period = await client.get(URL, params={"period": "2023-13"})
    message = assert_web_message(bad_period, 422, "ERROR")
    assert message["devMessage"] == "indicators.bad_period"
    assert message["errors"][0]["field"] == "query.period.0"
    no_such_day = await client.get(URL, params={"period": "2023,20230230"})
    assert assert_web_message(no_such_day, 422, "ERROR")["errors"][0]["field"] == "query.period.1"
    scheme = await client.get(URL, params={"idScheme": "name"})
    assert assert_web_message(scheme, 422, "ERROR")["errors"][0]["field"] == "query.idScheme"


async def test_export_as_dhis2_clients_ask(client: httpx.AsyncClient) -> None:
    """DHIS2's export parameters: a data set (its period type), an org unit with its
    children, identifiers by uid."""
    payload = {
        "dataValues": [
            value(comment=None),
            value(period="2023Q4", value="2985000", comment=None),
            value(orgUnit=NGHE_AN, value="3100000", comment=None),
        ]
    }
    assert_web_message(await client.post(URL, json=payload), 200, "OK")
    quarterly = await exported(client, dataSet="CHISO_QUARTERLY")
    assert quarterly == {(SUBSCRIBERS, "2023Q4", THANH_HOA, "LEVEL_COUNT"): "2985000"}
    yearly = await exported(client, dataSet="CHISO_YEARLY", orgUnit=COUNTRY, children="true")
    assert {key[2] for key in yearly} == {THANH_HOA, NGHE_AN}
    assert await exported(client, orgUnit=COUNTRY) == {}  # the country's own values: none
    unknown = await client.get(URL, params={"dataSet": "pBOMPrpg1QX"})
    assert assert_web_message(unknown, 422, "ERROR")["errors"][0]["field"] == "query.dataSet.0"
    # uids select too, whatever the idScheme of the answer.
    sets = (await client.get("/dhis2/api/dataSets", params={"fields": "id,code"})).json()
    quarterly_uid = {s["code"]: s["id"] for s in sets["dataSets"]}["CHISO_QUARTERLY"]
    units = (
        await client.get(
            "/dhis2/api/organisationUnits", params={"paging": "false", "fields": "id,code"}
        )
    ).json()
    nghe_an = {u["code"]: u["id"] for u in units["organisationUnits"]}[NGHE_AN]
    assert await exported(client, dataSet=quarterly_uid) == quarterly
    (by_uid,) = (await client.get(URL, params={"orgUnit": nghe_an, "idScheme": "uid"})).json()[
        "dataValues"
    ]
    assert (by_uid["orgUnit"], by_uid["value"]) == (nghe_an, "3100000")


async def test_an_area_by_its_former_code_or_its_uid(client: httpx.AsyncClient) -> None:
    units = await client.get(
        "/dhis2/api/organisationUnits", params={"filter": f"code:eq:{THANH_HOA}", "fields": "id"}
    )
    (unit,) = units.json()["organisationUnits"]
    payload = {
        "period": "2023",
        "dataValues": [
            {"dataElement": SUBSCRIBERS, "orgUnit": LEGACY_THANH_HOA, "value": "2980000"},
            {"dataElement": SUBSCRIBERS, "orgUnit": unit["id"], "value": "2980000"},
        ],
    }
    summary = assert_web_message(await client.post(URL, json=payload), 200, "OK")["response"]
    # The same value twice: imported, then corroborated by the second data value.
    assert summary["importCount"] == {"imported": 1, "updated": 1, "ignored": 0, "deleted": 0}
    assert await exported(client, orgUnit=THANH_HOA) == {
        (SUBSCRIBERS, "2023", THANH_HOA, "LEVEL_COUNT"): "2980000"
    }
