"""GET /v1/indicators/{code}/series: one area's current points as a JSON array, paged by
headers, in the shape the gateway splices into its envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import TypeAdapter

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.series import SeriesPoint
from tests.support import fact, running

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series"
POINTS = TypeAdapter(list[SeriesPoint])


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        facts = [
            fact(doc=f"nghe-an-{year}.txt", period=str(year), value=3_000_000 + year)
            for year in range(2019, 2024)
        ]
        facts.append(fact(doc="ha-tinh-2023.txt", scope="VN-42", value=1_300_000))
        facts.append(fact(doc="nghe-an-2023.txt", start=300, end=309, status="target", value=4e6))
        published = {f["doc"]: f"{f['period']}-12-31" for f in facts}
        documents = [{"name": name, "published": day} for name, day in published.items()]
        response = await http.post("/v1/facts", json={"documents": documents, "facts": facts})
        assert response.status_code == 200, response.text
        yield http


async def test_points_of_one_area_with_their_sources(client: httpx.AsyncClient) -> None:
    response = await client.get(SERIES, params={"area": "40"})
    assert response.status_code == 200, response.text
    points = POINTS.validate_json(response.content)
    assert [(p.period, p.value, p.status) for p in points] == [
        (str(year), 3_000_000 + year, "actual") for year in range(2019, 2024)
    ]
    assert response.headers["X-Count"] == "5"
    assert "X-Next-Cursor" not in response.headers
    source = points[-1].sources[0]
    assert (source.document, source.text, source.start, source.end) == (
        "nghe-an-2023.txt",
        "3.100.000",
        100,
        109,
    )
    # The same values as /v1/observations gives for that series.
    page = (
        await client.get(
            "/v1/observations",
            params={"indicator": "telecom.subscribers.total", "area": "40", "measure": "actual"},
        )
    ).json()["items"]
    assert [(p.period, p.value) for p in points] == [(i["period"], i["value"]) for i in page]


async def test_measure_and_periods_narrow_the_points(client: httpx.AsyncClient) -> None:
    targets = (await client.get(SERIES, params={"area": "40", "measure": "target"})).json()
    assert [(p["period"], p["value"], p["status"]) for p in targets] == [("2023", 4e6, "target")]
    window = await client.get(
        SERIES, params={"area": "40", "start_period": "2020", "end_period": "2021"}
    )
    assert [p["period"] for p in window.json()] == ["2020", "2021"]
    assert window.headers["X-Count"] == "2"


async def test_pages_follow_the_next_cursor(client: httpx.AsyncClient) -> None:
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {"area": "40", "limit": 2}
    while True:
        response = await client.get(SERIES, params=params)
        pages.append(response.json())
        assert response.headers["X-Count"] == str(len(pages[-1]))
        if "X-Next-Cursor" not in response.headers:
            break
        params["cursor"] = response.headers["X-Next-Cursor"]
    whole = (await client.get(SERIES, params={"area": "40"})).json()
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [point for page in pages for point in page] == whole


async def test_etag_gives_304(client: httpx.AsyncClient) -> None:
    first = await client.get(SERIES, params={"area": "42"})
    again = await client.get(
        SERIES, params={"area": "42"}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert (first.status_code, again.status_code, again.content) == (200, 304, b"")


async def test_unknown_code_is_404_and_a_known_code_without_points_is_empty(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get("/v1/indicators/telecom.nope/series", params={"area": "40"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "indicators.unknown_indicator"
    empty = await client.get(SERIES, params={"area": "01"})
    assert (empty.status_code, empty.json(), empty.headers["X-Count"]) == (200, [], "0")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "indicators.invalid"),
        ({"area": "Nghe An"}, "indicators.invalid"),
        ({"area": "40", "start_period": "last year"}, "indicators.bad_period"),
        ({"area": "40", "limit": 5000}, "indicators.page_too_large"),
        ({"area": "40", "cursor": "not-a-cursor"}, "indicators.bad_cursor"),
    ],
)
async def test_bad_queries_are_422(
    client: httpx.AsyncClient, params: dict[str, Any], code: str
) -> None:
    response = await client.get(SERIES, params=params)
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] == code
