"""A fact's doubts travel with it: extracted, stored by ingest, delivered to indicators and
served there with its source."""

from __future__ import annotations

import httpx
import pytest

from chiso_shared.facts import Fact
from tests.ingest.test_reextract import until_delivered
from tests.support import service_headers

# the count of enterprises has no unit word and nothing counted after it: `unit_inferred`
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"
    "Số doanh nghiệp bưu chính đang hoạt động: 25."
)


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
        response = await indicators.get("/v1/observations", params={"area": "40"})
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
