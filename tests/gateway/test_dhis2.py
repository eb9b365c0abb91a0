"""/dhis2/api/... through the gateway: one documented route per DHIS2 endpoint indicators
serves, answers passed on as they were (WebMessage errors included) and cached."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import bearer, gateway_settings, new_client, post_facts
from tests.support import fact, running, serving

pytestmark = pytest.mark.asyncio
# Area codes as the service writes them (CONTRACT19: one place to flip them).
COUNTRY = "VN"
NGHE_AN = "40"
SUBSCRIBERS = "telecom.subscribers.total"
KINDS = ("dataElements", "organisationUnits", "categoryCombos", "categoryOptionCombos", "dataSets")


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        post_facts(url, fact(), published="2023-12-20")
        yield url


@pytest_asyncio.fixture
async def gateway(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    async with running(create_app(settings)) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["indicators:read"])))
        yield http


async def test_data_values_as_json_and_csv(gateway: httpx.AsyncClient) -> None:
    first = await gateway.get("/dhis2/api/dataValueSets", params={"orgUnit": NGHE_AN})
    assert first.status_code == 200, first.text
    (value,) = first.json()["dataValues"]
    assert (value["dataElement"], value["orgUnit"], value["value"]) == (
        SUBSCRIBERS,
        NGHE_AN,
        "3100000",
    )
    again = await gateway.get("/dhis2/api/dataValueSets", params={"orgUnit": NGHE_AN})
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("MISS", "HIT")
    as_csv = await gateway.get("/dhis2/api/dataValueSets.csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(as_csv.text))
    assert row["orgunit"] == NGHE_AN
    as_json = await gateway.get("/dhis2/api/dataValueSets.json", params={"idScheme": "uid"})
    assert as_json.json()["dataValues"][0]["orgUnit"] != NGHE_AN  # its uid


async def test_metadata_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    for kind in KINDS:
        response = await gateway.get(f"/dhis2/api/{kind}", params={"fields": "id,code,name"})
        assert response.status_code == 200, (kind, response.text)
        assert response.json()["pager"]["page"] == 1
        assert set(response.json()[kind][0]) <= {"id", "code", "name"}
    units = await gateway.get(
        "/dhis2/api/organisationUnits.json",
        params={"paging": "false", "filter": "level:eq:1", "fields": "id,code,level"},
    )
    (country,) = units.json()["organisationUnits"]
    assert (country["code"], country["level"]) == (COUNTRY, 1)
    one = await gateway.get(f"/dhis2/api/organisationUnits/{country['id']}")
    assert one.json()["path"] == f"/{country['id']}"
    # A next-page link is relative, so it leads through the gateway too.
    paged = (await gateway.get("/dhis2/api/dataElements", params={"pageSize": 10})).json()
    follow = await gateway.get(paged["pager"]["nextPage"])
    assert follow.json()["pager"]["page"] == 2


async def test_dhis2_errors_pass_on_as_web_messages(gateway: httpx.AsyncClient) -> None:
    missing = await gateway.get("/dhis2/api/dataElements/aaaaaaaaaaa")
    assert missing.status_code == 404
    assert (missing.json()["httpStatusCode"], missing.json()["status"]) == (404, "ERROR")
    bad_period = await gateway.get("/dhis2/api/dataValueSets", params={"period": "2023-13"})
    assert bad_period.status_code == 422
    assert bad_period.json()["errors"][0]["field"] == "query.period.0"
    bad_filter = await gateway.get("/dhis2/api/dataSets", params={"filter": "x"})
    assert bad_filter.status_code == 422
    assert bad_filter.json()["errors"][0]["field"] == "query.filter.0"
    # The gateway's own refusals stay problem details.
    anonymous = await gateway.get("/dhis2/api/dataElements", headers={"Authorization": "x"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


async def test_each_endpoint_is_documented(gateway: httpx.AsyncClient) -> None:
    paths = (await gateway.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if "{rest" in path and path.startswith("/dhis2")]
    expected = {"/dhis2/api/dataValueSets", "/dhis2/api/dataValueSets.csv"}
    expected |= {f"/dhis2/api/{kind}" for kind in KINDS}
    expected |= {f"/dhis2/api/{kind}/{{uid}}" for kind in KINDS}
    assert expected <= set(paths)
    for path in expected:
        operation = paths[path]["get"]
        assert operation["summary"]
        assert operation["responses"]["200"]["content"], path
        examples = [
            body.get("example") for body in operation["responses"]["200"]["content"].values()
        ]
        assert all(examples), path
        assert {"401", "404" if "{uid}" in path else "422"} <= set(operation["responses"])
    names = {p["name"] for p in paths["/dhis2/api/dataElements"]["get"]["parameters"]}
    assert {"fields", "filter", "paging", "page", "pageSize"} <= names
