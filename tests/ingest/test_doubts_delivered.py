"""A fact's doubts travel with it: extracted, stored by ingest, delivered to indicators and
served there with its source."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app as indicators_app
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from chiso_shared.facts import Fact
from tests.ingest.test_reextract import until_delivered
from tests.support import running, service_headers, serving

# the count of enterprises has no unit word and nothing counted after it: `unit_inferred`
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"
    "Số doanh nghiệp bưu chính đang hoạt động: 25."
)


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(indicators_app(settings)) as url:
        yield url


@pytest_asyncio.fixture
async def client(
    tmp_path: Path, ingest_db: str, indicators_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path, database_url=ingest_db, indicators_url=indicators_url, poll_interval=0.05
    )
    async with running(create_app(settings)) as http:
        yield http


@pytest.mark.asyncio
async def test_doubts_survive_ingest_and_indicators(
    client: httpx.AsyncClient, indicators_url: str
) -> None:
    accepted = (
        await client.post(
            "/v1/documents",
            files={"file": ("nghe-an.txt", REPORT.encode(), "text/plain")},
            data={"scope": "VN-40"},
        )
    ).json()
    await until_delivered(client, accepted["id"])
    facts = (await client.get(f"/v1/documents/{accepted['id']}/facts")).json()["facts"]
    by_text = {fact["text"]: fact for fact in facts}
    assert (by_text["3.100.000"]["doubts"], by_text["3.100.000"]["confidence"]) == ([], 1.0)
    bare = by_text["25"]
    assert bare["doubts"] == ["unit_inferred"] and bare["confidence"] < 1.0

    headers = service_headers("indicators")
    async with httpx.AsyncClient(base_url=indicators_url, headers=headers) as indicators:
        response = await indicators.get("/v1/observations", params={"area": "VN-40"})
    assert response.status_code == 200, response.text
    served = {
        source["text"]: (source["doubts"], source["confidence"])
        for item in response.json()["items"]
        for source in item["sources"]
    }
    assert served["3.100.000"] == ([], 1.0)
    assert served["25"] == (bare["doubts"], bare["confidence"])


def test_a_fact_stored_before_doubts_still_loads() -> None:
    old = {
        "doc": "a.txt",
        "start": 0,
        "end": 2,
        "text": "25",
        "value": 25,
        "unit": "count",
        "period": "2023",
    }
    fact = Fact.model_validate(old)
    assert (fact.doubts, fact.confidence) == ([], 1.0)
