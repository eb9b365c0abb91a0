"""/v1/trace through real services: a value back to its documents and sentences; the province
list and the web app's configuration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import running

pytestmark = pytest.mark.asyncio
# Two reports of the same year: the second (published later) revises the subscriber count.
FIRST = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2023\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh ước đạt 2.950.000 thuê bao. "
    "Doanh thu bưu chính đạt 500 tỷ đồng.\n"
)
SECOND = (
    "BÁO CÁO TỔNG KẾT NĂM 2023 CỦA SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA\n"
    "Trong năm 2023, tổng số thuê bao điện thoại toàn tỉnh đạt 2.980.000 thuê bao.\n"
)
THIRD = (
    "THÔNG CÁO BÁO CHÍ NĂM 2023 - TỈNH THANH HÓA\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh đạt 2.980.000 thuê bao.\n"
)


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str) -> Settings:
    return gateway_settings(
        tmp_path, gateway_db, indicators_url, ingest_url=ingest_url, cache_ttl_seconds=0
    )


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        scopes = ["indicators:read", "documents:write"]
        http.headers.update(await bearer(http, await new_client(settings, scopes)))
        yield http


async def upload(gateway: httpx.AsyncClient, name: str, text: str, published: str) -> str:
    answer = await gateway.post(
        "/v1/documents",
        files={"file": (name, text.encode(), "text/plain")},
        data={"published": published, "scope": "VN-38"},
    )
    assert answer.status_code == 202, answer.text
    document = str(answer.json()["data"]["id"])
    for _ in range(600):
        status = (await gateway.get(f"/v1/documents/{document}")).json()["data"]["status"]
        if status == "delivered":
            return document
        assert status != "failed"
        await asyncio.sleep(0.05)
    raise AssertionError("not delivered")


async def trace(gateway: httpx.AsyncClient, **params: str) -> httpx.Response:
    query = {"indicator": "telecom.subscribers.total", "area": "38", "period": "2023"}
    return await gateway.get("/v1/trace", params={**query, **params})


async def test_a_value_traces_to_every_document_and_sentence(gateway: httpx.AsyncClient) -> None:
    await upload(gateway, "th-a.txt", FIRST, "2023-12-01")
    await upload(gateway, "th-b.txt", SECOND, "2024-01-10")
    await upload(gateway, "th-c.txt", THIRD, "2024-01-05")
    answer = await trace(gateway)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    assert (data["area_name"], data["unit"]) == ("Thanh Hóa", "count")
    current, *others = data["versions"]
    assert current["current"] is True and current["value"] == 2980000
    assert {s["document_name"] for s in current["sources"]} == {"th-b.txt", "th-c.txt"}
    assert [(o["value"], o["current"]) for o in others] == [(2950000, False)]
    sentence = current["sources"][0]["sentence"]
    assert sentence["text"][sentence["span_start"] : sentence["span_end"]] == "2.980.000"
    assert "tổng số thuê bao điện thoại" in sentence["text"]
    assert sentence["truncated"] is False
    assert set(data["same_value"]) == {"th-b.txt", "th-c.txt"}
    assert data["other_value"] == ["th-a.txt"]
    assert answer.json()["meta"]["truncated"] is False


async def test_sources_beyond_the_limit_come_without_sentence_and_say_so(
    tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str
) -> None:
    settings = gateway_settings(
        tmp_path, gateway_db, indicators_url, ingest_url=ingest_url, trace_max_sources=1
    )
    async with running(create_app(settings)) as http:
        scopes = ["indicators:read", "documents:write"]
        http.headers.update(await bearer(http, await new_client(settings, scopes)))
        await upload(http, "th-b.txt", SECOND, "2024-01-10")
        await upload(http, "th-c.txt", THIRD, "2024-01-05")
        answer = await trace(http)
    body = answer.json()
    sources = body["data"]["versions"][0]["sources"]
    assert len(sources) == 2
    assert [s["sentence"] is None for s in sources] == [False, True]
    assert body["meta"]["truncated"] is True


async def test_no_value_is_a_404(gateway: httpx.AsyncClient) -> None:
    answer = await trace(gateway, period="2019")
    assert answer.status_code == 404
    assert answer.json()["code"] == "gateway.no_value"


async def test_a_bad_area_is_a_422(gateway: httpx.AsyncClient) -> None:
    answer = await trace(gateway, area="99")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "query.area"


async def test_areas_country_first_then_provinces_by_code(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/v1/areas", headers={"Accept-Language": "vi"})
    assert answer.status_code == 200
    units = answer.json()["data"]
    assert units[0]["code"] == "VN"
    codes = [unit["code"] for unit in units]
    assert len(codes) == len(set(codes)) == 64
    assert codes[1:] == sorted(codes[1:]) and codes[1] == "01"
    old = await gateway.get("/v1/org-units", headers={"Accept-Language": "vi"})
    assert old.status_code == 308 and old.headers["Location"] == "/v1/areas"
    thanh_hoa = next(unit for unit in units if unit["code"] == "38")
    assert thanh_hoa["name"] == "Thanh Hóa"
    assert {v["code_list"] for v in thanh_hoa["versions"]} == {"2004", "2025"}


async def test_the_web_app_config_says_whether_anonymous_reads_are_on(
    gateway: httpx.AsyncClient,
) -> None:
    answer = await gateway.get("/app/config.json", headers={"Authorization": ""})
    assert answer.status_code == 200
    assert answer.json()["anonymous_read"] is False
