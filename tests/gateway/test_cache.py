"""ETag/304, Cache-Control, the response cache (memory and Redis) and its invalidation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import REDIS_URL, bearer, gateway_settings, new_client, post_facts
from tests.support import fact, free_port, running, serving

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series?area=40"


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        post_facts(url, fact(), published="2023-12-20")
        yield url


@pytest.fixture(params=["memory cache", "redis cache"])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, gateway_db: str, indicators_url: str
) -> Settings:
    redis = REDIS_URL if request.param.startswith("redis") else None
    return gateway_settings(tmp_path, gateway_db, indicators_url, redis_url=redis)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["indicators:read"])))
        yield http


async def test_second_read_is_a_cache_hit_with_the_same_etag(gateway: httpx.AsyncClient) -> None:
    first = await gateway.get(SERIES)
    second = await gateway.get(SERIES)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.content == second.content
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("private, max-age=60")
    assert first.json()["meta"]["data_revision"] == 1


async def test_if_none_match_gets_304_without_a_body(gateway: httpx.AsyncClient) -> None:
    first = await gateway.get(SERIES)
    again = await gateway.get(SERIES, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    other = await gateway.get(SERIES, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


async def test_new_data_revision_invalidates_the_cache(
    gateway: httpx.AsyncClient, indicators_url: str
) -> None:
    before = await gateway.get(SERIES)
    assert [p["value"] for p in before.json()["data"]["observations"]] == [3100000]
    post_facts(
        indicators_url,
        fact(doc="nghe-an-2024.txt", period="2024", value=3200000, text="3.200.000"),
        published="2024-12-20",
    )
    after = await gateway.get(SERIES, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["X-Cache"] == "MISS"
    assert [p["value"] for p in after.json()["data"]["observations"]] == [3100000, 3200000]
    assert after.json()["meta"]["data_revision"] == 2


async def test_language_is_part_of_the_cache_key(gateway: httpx.AsyncClient) -> None:
    vi = await gateway.get("/v1/indicators/telecom.subscribers.total")
    en = await gateway.get(
        "/v1/indicators/telecom.subscribers.total", headers={"Accept-Language": "en-US"}
    )
    assert en.headers["X-Cache"] == "MISS"
    assert vi.json()["data"]["name"] == vi.json()["data"]["name_vi"]
    assert en.json()["data"]["name"] == en.json()["data"]["name_en"] != vi.json()["data"]["name"]


async def test_csv_is_forwarded_as_is_and_cached(gateway: httpx.AsyncClient) -> None:
    # a page of CSV is cached like any page
    first = await gateway.get("/v1/observations?area=40&format=csv&limit=100")
    second = await gateway.get("/v1/observations?area=40&format=csv&limit=100")
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/csv")
    lines = first.text.splitlines()
    assert lines[0].startswith("indicator,area,")
    assert "3100000" in lines[1]
    assert second.headers["X-Cache"] == "HIT"
    assert second.text == first.text
    # the whole selection streams through, never held whole, so never cached
    whole = await gateway.get("/v1/observations?area=40&format=csv")
    assert whole.text == first.text and "X-Cache" not in whole.headers


async def test_standards_prefixes_are_forwarded(gateway: httpx.AsyncClient) -> None:
    # Whatever indicators answers under /sdmx comes back with its own code.
    response = await gateway.get("/sdmx/2.1/codelist/CHISO/CL_NOTHING/latest")
    assert response.status_code == 404, response.text
    assert response.json()["code"].startswith("indicators.")
    # DHIS2: only the endpoints served are routed; the gateway knows no other.
    response = await gateway.get("/dhis2/api/nothing-here")
    assert response.status_code == 404, response.text
    assert response.json()["code"].startswith("gateway.")


async def test_no_cache_when_ttl_is_zero(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, cache_ttl_seconds=0)
    async with running(create_app(settings)) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["indicators:read"])))
        statuses = [(await http.get(SERIES)).headers["X-Cache"] for _ in range(2)]
    assert statuses == ["BYPASS", "BYPASS"]


async def test_redis_down_degrades_to_no_cache_and_no_quota(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        quota_tiers={"standard": 1},
        token_limit_fail_open=True,  # the token limits' default fails closed (test_token_limits)
    )
    async with running(create_app(settings)) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["indicators:read"])))
        answers = [await http.get(SERIES) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.headers["X-Cache"] for a in answers} == {"MISS"}


async def test_an_escaped_ampersand_does_not_share_the_key_of_two_pairs(
    gateway: httpx.AsyncClient,
) -> None:
    # One pair whose value spells out `&indicator=...`, asked first, then the two pairs it
    # spells: joined as `k=v&k=v` without escaping, both were one key, and the second caller
    # was served the first one's empty answer.
    spelled = "area=40%26indicator%3Dtelecom.subscribers.total"
    first = await gateway.get(f"/v1/observations?{spelled}")
    second = await gateway.get("/v1/observations?area=40&indicator=telecom.subscribers.total")
    assert first.status_code == 200, first.text
    assert first.json()["data"] == []
    assert second.headers["X-Cache"] == "MISS"
    assert [item["value"] for item in second.json()["data"]] == [3100000]


SDMX_DATA = "/sdmx/2.1/data/DF_PROVINCE_ICT/A.40.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"


async def test_each_accept_gets_its_own_cached_representation(gateway: httpx.AsyncClient) -> None:
    xml = {"Accept": "application/vnd.sdmx.genericdata+xml;version=2.1"}
    json_ = {"Accept": "application/vnd.sdmx.data+json;version=1.0.0"}
    answers = [await gateway.get(SDMX_DATA, headers=accept) for accept in (xml, json_, xml, json_)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200], answers[1].text
    assert [a.headers["X-Cache"] for a in answers] == ["MISS", "MISS", "HIT", "HIT"]
    kinds = [a.headers["content-type"].split(";")[0] for a in answers]
    assert kinds == ["application/vnd.sdmx.genericdata+xml", "application/vnd.sdmx.data+json"] * 2
    assert answers[0].content.lstrip().startswith(b"<")
    assert answers[1].json()["dataSets"]
    assert "Accept" in [part.strip() for part in answers[1].headers["Vary"].split(",")]
