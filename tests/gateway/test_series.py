"""The series read splices indicators' arrays into the envelope: pages joined in order, the
count summed, and the same points as indicators serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chiso_gateway.main import create_app
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import bearer, gateway_settings, new_client, post_facts
from tests.support import fact, running, service_headers, serving

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series"
YEARS = range(2017, 2024)


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        for year in YEARS:
            post_facts(
                url,
                fact(doc=f"nghe-an-{year}.txt", period=str(year), value=3_000_000 + year),
                published=f"{year}-12-31",
            )
        yield url


async def series(
    tmp_path: Path, gateway_db: str, indicators_url: str, page_size: int, query: str
) -> httpx.Response:
    settings = gateway_settings(
        tmp_path, gateway_db, indicators_url, series_page_size=page_size, cache_ttl_seconds=0
    )
    async with running(create_app(settings)) as gateway:
        headers = await bearer(gateway, await new_client(settings, ["indicators:read"]))
        return await gateway.get(f"{SERIES}?{query}", headers=headers)


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
async def test_pages_are_joined_into_one_series(
    tmp_path: Path, gateway_db: str, indicators_url: str, page_size: int
) -> None:
    response = await series(tmp_path, gateway_db, indicators_url, page_size, "area=40")
    assert response.status_code == 200, response.text
    body = json.loads(response.content)  # well-formed JSON after splicing
    observations = body["data"]["observations"]
    assert [o["period"] for o in observations] == [str(year) for year in YEARS]
    assert body["meta"]["count"] == len(YEARS)
    assert body["data"] == {
        "indicator": "telecom.subscribers.total",
        "area": "40",
        "measure": "actual",
        "transformation": "level",
        "observations": httpx.get(
            f"{indicators_url}{SERIES}",
            params={"area": "40", "limit": 1000},
            headers=service_headers("indicators"),
        ).json(),
    }
    assert observations[-1]["sources"][0]["document"] == "nghe-an-2023.txt"


@pytest.mark.parametrize("query", ["area=01", "area=40&from=2030", "area=40&measure=target"])
async def test_a_series_without_points_is_empty(
    tmp_path: Path, gateway_db: str, indicators_url: str, query: str
) -> None:
    response = await series(tmp_path, gateway_db, indicators_url, 2, query)
    assert response.status_code == 200, response.text
    body = json.loads(response.content)
    assert (body["data"]["observations"], body["meta"]["count"]) == ([], 0)


async def test_a_series_longer_than_the_page_limit_says_it_is_truncated(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        series_page_size=2,
        series_max_pages=2,
        cache_ttl_seconds=0,
    )
    async with running(create_app(settings)) as gateway:
        headers = await bearer(gateway, await new_client(settings, ["indicators:read"]))
        whole = await gateway.get(f"{SERIES}?area=40&to=2020", headers=headers)
        cut = await gateway.get(f"{SERIES}?area=40", headers=headers)
    assert [o["period"] for o in whole.json()["data"]["observations"]] == [
        "2017",
        "2018",
        "2019",
        "2020",
    ]
    assert "truncated" not in whole.json()["meta"]
    assert [o["period"] for o in cut.json()["data"]["observations"]] == [
        "2017",
        "2018",
        "2019",
        "2020",
    ]
    assert cut.json()["meta"] == {**cut.json()["meta"], "count": 4, "truncated": True}
    # and how many the whole series has
    assert (whole.json()["meta"]["total"], cut.json()["meta"]["total"]) == (4, len(YEARS))


async def test_an_unknown_indicator_is_indicators_404(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    async with running(create_app(settings)) as gateway:
        headers = await bearer(gateway, await new_client(settings, ["indicators:read"]))
        response = await gateway.get("/v1/indicators/telecom.nope/series?area=40", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "indicators.unknown_indicator"
