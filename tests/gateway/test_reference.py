"""Reference data through the gateway: the areas (/v1/areas) and the indicator catalogue
(/v1/indicators), read from a real indicators service, named in the caller's language, behind
`indicators:read`, with indicators' own errors passed on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import client_headers, gateway_settings
from tests.support import running

pytestmark = pytest.mark.asyncio
# Area codes as the service writes them (one place to change when the codes change).
COUNTRY = "VN"
BAC_NINH = "24"
BAC_NINH_MERGED = "27"  # merged into BAC_NINH in 2025
THANH_HOA = "38"
UNKNOWN_AREA = "99"


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        _, headers = await client_headers(http, settings, "indicators:read")
        http.headers.update(headers)
        yield http


async def test_the_areas_are_listed_with_names_in_the_asked_language(
    gateway: httpx.AsyncClient,
) -> None:
    english = await gateway.get("/v1/areas", headers={"Accept-Language": "en"})
    assert english.status_code == 200, english.text
    body = english.json()
    assert set(body) == {"data", "meta", "links"}
    areas = {row["code"]: row for row in body["data"]}
    assert body["meta"]["count"] == len(body["data"]) == 64  # the country and 63 provinces
    assert COUNTRY in areas
    assert (areas[THANH_HOA]["name"], areas[THANH_HOA]["name_vi"]) == ("Thanh Hoa", "Thanh Hóa")
    assert english.headers["content-language"] == "en"
    vietnamese = (await gateway.get("/v1/areas")).json()["data"]
    assert {row["code"]: row["name"] for row in vietnamese}[THANH_HOA] == "Thanh Hóa"


async def test_code_list_and_date_filters_pass_through(gateway: httpx.AsyncClient) -> None:
    async def codes(**params: str) -> set[str]:
        response = await gateway.get("/v1/areas", params=params)
        assert response.status_code == 200, response.text
        return {row["code"] for row in response.json()["data"]}

    assert len(await codes(code_list="2025")) == 35  # the country and 34 provinces
    assert await codes(on="2023-12-31") == await codes(code_list="2004")
    bad = await gateway.get("/v1/areas", params={"code_list": "1976"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_one_area_carries_its_versions_and_the_merger(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get(f"/v1/areas/{BAC_NINH}", headers={"Accept-Language": "vi"})
    assert response.status_code == 200, response.text
    area = response.json()["data"]
    assert (area["code"], area["name"], area["code_list"]) == (BAC_NINH, "Bắc Ninh", "2025")
    assert area["predecessors"] == [BAC_NINH, BAC_NINH_MERGED]
    assert [version["name"] for version in area["versions"]] == ["Bắc Giang", "Bắc Ninh"]
    assert response.json()["links"]["self"].endswith(f"/v1/areas/{BAC_NINH}")

    missing = await gateway.get(f"/v1/areas/{UNKNOWN_AREA}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "indicators.unknown_area"
    # a code cannot reach another indicators path: it stays one encoded segment
    escaped = await gateway.get("/v1/areas/..%2Fv1%2Frevision")
    assert escaped.status_code == 404


async def test_areas_need_a_reader_token(settings: Settings) -> None:
    async with running(create_app(settings)) as http:
        assert (await http.get("/v1/areas")).status_code == 401
        _, other = await client_headers(http, settings, "catalog:read")
        refused = await http.get(f"/v1/areas/{THANH_HOA}", headers=other)
    assert refused.status_code == 403
    assert refused.json()["code"] == "gateway.scope_missing"


async def test_indicator_metadata_reads_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    listed = await gateway.get("/v1/indicators", headers={"Accept-Language": "en"})
    assert listed.status_code == 200, listed.text
    rows = {row["code"]: row for row in listed.json()["data"]}
    total = rows["telecom.subscribers.total"]
    assert {"code", "unit", "name", "name_vi", "name_en", "reference"} <= set(total)
    assert (total["unit"], total["name"]) == ("count", total["name_en"])
    one = await gateway.get("/v1/indicators/telecom.subscribers.total")
    assert one.status_code == 200, one.text
    assert one.json()["data"] == {**total, "name": total["name_vi"]}
    missing = await gateway.get("/v1/indicators/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "indicators.unknown_indicator")
