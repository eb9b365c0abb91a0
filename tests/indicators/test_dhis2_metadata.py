"""The DHIS2 metadata a DHIS2 administrator maps chiso's codes with: shapes as DHIS2's Web API
gives them (`fields`, `filter`, `paging`, the `pager`), uids, the org unit hierarchy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.catalogue import indicators
from tests.support import running

pytestmark = pytest.mark.asyncio

API = "/dhis2/api"
UID = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")
# Area codes as the service writes them (CONTRACT19: one place to flip them).
COUNTRY = "VN"
THANH_HOA = "38"
KEPT_THROUGH_MERGER = "24"  # Bắc Giang on the 2004 list, the merged Bắc Ninh from 2025-07-01
MERGED_AWAY = "27"  # Bắc Ninh on the 2004 list, merged into 24
# Both lists: every 2025-list province kept the code of one of the 63 it merged.
PROVINCE_CODES = 63
SUBSCRIBERS = "telecom.subscribers.total"


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        yield http


async def every(client: httpx.AsyncClient, kind: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/{kind}", params={"paging": "false", **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "pager" not in body
    items: list[dict[str, Any]] = body[kind]
    return items


async def test_data_elements(client: httpx.AsyncClient) -> None:
    fields = "id,code,name,shortName,valueType,aggregationType"
    items = await every(client, "dataElements", fields=fields)
    assert [item["code"] for item in items] == [item.code for item in indicators()]
    assert all(set(item) == set(fields.split(",")) for item in items)
    assert all(UID.fullmatch(item["id"]) for item in items)
    assert len({item["id"] for item in items}) == len(items)
    (subscribers,) = [item for item in items if item["code"] == SUBSCRIBERS]
    assert subscribers["name"] == "Telephone subscriptions, total"
    assert (subscribers["valueType"], subscribers["aggregationType"]) == ("NUMBER", "SUM")
    assert all(len(item["shortName"]) <= 50 for item in items)
    # The ids are derived, not drawn: the same on every run and every chiso.
    again = await every(client, "dataElements", fields="id,code")
    assert {i["code"]: i["id"] for i in again} == {i["code"]: i["id"] for i in items}
    vietnamese = await every(client, "dataElements", fields="code,name", locale="vi")
    assert {i["code"]: i["name"] for i in vietnamese}[SUBSCRIBERS] == "Tổng số thuê bao điện thoại"


async def test_default_fields_and_paging_as_dhis2(client: httpx.AsyncClient) -> None:
    first = (await client.get(f"{API}/dataElements")).json()
    total = len(indicators())
    assert first["pager"] == {
        "page": 1,
        "pageCount": -(-total // 50),
        "total": total,
        "pageSize": 50,
        "nextPage": "/dhis2/api/dataElements?page=2",
    }
    assert set(first["dataElements"][0]) == {"id", "displayName"}
    assert len(first["dataElements"]) == 50
    second = (await client.get(first["pager"]["nextPage"])).json()
    assert len(second["dataElements"]) == total - 50
    assert second["pager"]["prevPage"] == "/dhis2/api/dataElements?page=1"
    assert "nextPage" not in second["pager"]
    one = await client.get(f"{API}/dataElements.json", params={"pageSize": 1, "page": 2})
    assert one.json()["pager"]["pageCount"] == total


async def test_org_units_hierarchy(client: httpx.AsyncClient) -> None:
    fields = "id,code,name,level,path,parent,children,openingDate,closedDate,description"
    units = {unit["code"]: unit for unit in await every(client, "organisationUnits", fields=fields)}
    country = units.pop(COUNTRY)
    assert (country["level"], country["path"]) == (1, f"/{country['id']}")
    assert "parent" not in country
    assert len(units) == PROVINCE_CODES
    assert {child["id"] for child in country["children"]} == {u["id"] for u in units.values()}
    province = units[THANH_HOA]
    assert province["level"] == 2
    assert province["parent"] == {"id": country["id"]}
    assert province["path"] == f"/{country['id']}/{province['id']}"
    assert province["children"] == []
    assert province["openingDate"] == "2004-01-01T00:00:00.000"
    assert "closedDate" not in province
    # A 2004-list province merged in 2025 is closed the day before the 2025 list took effect.
    merged = units[MERGED_AWAY]
    assert merged["closedDate"] == "2025-06-30T00:00:00.000"
    assert f"merged into {KEPT_THROUGH_MERGER}" in merged["description"]
    # A code that outlived the merger stays open, named as now, its history in the description.
    kept = units[KEPT_THROUGH_MERGER]
    assert "closedDate" not in kept
    assert kept["name"] == "Bac Ninh"
    assert "Bac Giang (2004: 2004-01-01 – 2025-06-30)" in kept["description"]


async def test_filters_and_nested_fields(client: httpx.AsyncClient) -> None:
    (country,) = await every(client, "organisationUnits", filter="level:eq:1", fields="code")
    assert country == {"code": COUNTRY}
    (province,) = await every(
        client,
        "organisationUnits",
        filter=f"code:eq:{THANH_HOA}",
        fields="code,parent[id,code,level]",
    )
    assert province["parent"]["code"] == COUNTRY
    assert province["parent"]["level"] == 1
    closed = await every(client, "organisationUnits", filter="closedDate:!null", fields="code")
    assert {"code": MERGED_AWAY} in closed
    assert {"code": THANH_HOA} not in closed
    bad = await client.get(f"{API}/organisationUnits", params={"filter": "level:gt:1"})
    assert bad.status_code == 422
    assert bad.json()["httpStatusCode"] == 422
    assert bad.json()["errors"][0]["field"] == "query.filter.0"
    unbalanced = await client.get(f"{API}/organisationUnits", params={"fields": "parent[id"})
    assert unbalanced.status_code == 422


async def test_category_option_combos(client: httpx.AsyncClient) -> None:
    combos = {c["code"]: c for c in await every(client, "categoryOptionCombos", fields="*")}
    # DHIS2's own default combo, with the uid every DHIS2 instance gives it.
    assert combos["default"]["id"] == "HllvX50cXC0"
    assert {"LEVEL_COUNT", "CHANGE_PREVIOUS_PERCENT", "ACTUAL", "TARGET"} <= set(combos)
    assert combos["LEVEL_COUNT"]["name"] == "Level, count"
    assert all(UID.fullmatch(combo["id"]) for combo in combos.values())
    category_combos = {c["code"]: c for c in await every(client, "categoryCombos", fields="*")}
    measure = category_combos["CHISO_MEASURE"]
    assert measure["dataDimensionType"] == "ATTRIBUTE"
    assert {c["id"] for c in measure["categoryOptionCombos"]} == {
        combos["ACTUAL"]["id"],
        combos["TARGET"]["id"],
    }


async def test_data_sets(client: httpx.AsyncClient) -> None:
    sets = {s["code"]: s for s in await every(client, "dataSets", fields="*")}
    yearly = sets["CHISO_YEARLY"]
    assert yearly["periodType"] == "Yearly"
    assert {s["periodType"] for s in sets.values()} >= {"Yearly", "Quarterly", "Monthly"}
    assert len(yearly["dataSetElements"]) == len(indicators())
    elements = await every(client, "dataElements", fields="id")
    assert {e["dataElement"]["id"] for e in yearly["dataSetElements"]} == {
        e["id"] for e in elements
    }


async def test_one_object_by_uid(client: httpx.AsyncClient) -> None:
    (element,) = await every(client, "dataElements", filter=f"code:eq:{SUBSCRIBERS}", fields="id")
    one = await client.get(f"{API}/dataElements/{element['id']}")
    assert one.status_code == 200
    assert one.json()["code"] == SUBSCRIBERS
    assert one.json()["categoryCombo"]["id"]
    missing = await client.get(f"{API}/dataElements/aaaaaaaaaaa")
    assert missing.status_code == 404
    body = missing.json()
    assert (body["httpStatus"], body["httpStatusCode"], body["status"]) == (
        "Not Found",
        404,
        "ERROR",
    )
