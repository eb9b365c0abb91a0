"""POST /v1/facts and the reads, on SQLite or PostgreSQL, through the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from tests.support import fact, running

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db, max_page_size=50)
    async with running(create_app(settings)) as http:
        yield http


async def current(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/observations", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_import_then_read_back_with_provenance(client: httpx.AsyncClient) -> None:
    batch = {
        "documents": [{"id": "d1", "name": "nghe-an-2023.txt", "published": "2023-12-20"}],
        "facts": [
            fact(),
            fact(
                start=130,
                end=134,
                text="4,2",
                value=4.2,
                unit="percent",
                role="change",
                basis="previous_period",
            ),
            fact(indicator=None, start=200, end=202, text="12", value=12),
            fact(scope="sub", start=300, end=303, text="150", value=150),
        ],
    }
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["imported"], summary["updated"], summary["ignored"]) == (2, 0, 2)

    items = await current(client, indicator="telecom.subscribers.total", area="40")
    by_transformation = {item["transformation"]: item for item in items}
    assert set(by_transformation) == {"level", "change_previous"}
    level = by_transformation["level"]
    assert (level["value"], level["period"], level["status"], level["frequency"]) == (
        3100000,
        "2023",
        "actual",
        "A",
    )
    assert level["sources"][0]["document_id"] == "d1"
    assert level["sources"][0]["text"] == "3.100.000"
    assert level["sources"][0]["published"] == "2023-12-20"


async def test_a_fact_of_unknown_scope_is_served_under_no_area(client: httpx.AsyncClient) -> None:
    """A provincial text that named no province and came with no hint gives facts of scope
    null: they are ignored, never filed under the country."""
    batch = {"facts": [fact(scope=None), fact(scope="VN", start=40, end=49, value=80000000)]}
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 200, response.text
    assert (response.json()["imported"], response.json()["ignored"]) == (1, 1)
    items = await current(client, indicator="telecom.subscribers.total")
    assert [(item["area"], item["value"]) for item in items] == [("VN", 80000000)]


async def test_same_batch_twice_changes_nothing(client: httpx.AsyncClient) -> None:
    batch = {"facts": [fact(), fact(period="2022", value=3000000, start=10, end=19)]}
    first = (await client.post("/v1/facts", json=batch)).json()
    second = (await client.post("/v1/facts", json=batch)).json()
    assert first["imported"] == 2
    assert (second["imported"], second["updated"], second["ignored"]) == (0, 0, 2)
    assert second["revision"] == first["revision"]


async def test_idempotency_key_replays_and_refuses_a_new_body(client: httpx.AsyncClient) -> None:
    batch = {"facts": [fact()]}
    headers = {"Idempotency-Key": "batch-1"}
    first = await client.post("/v1/facts", json=batch, headers=headers)
    again = await client.post("/v1/facts", json=batch, headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post("/v1/facts", json={"facts": [fact(value=1)]}, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "indicators.idempotency_key_reused"


async def test_unknown_code_rejects_whole_batch(client: httpx.AsyncClient) -> None:
    batch = {"facts": [fact(), fact(indicator="telecom.nonexistent", start=5, end=8)]}
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "indicators.unknown_code"
    assert body["errors"][0]["field"] == "body.facts.1.indicator"
    assert await current(client) == []


async def test_malformed_fact_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/facts", json={"facts": [fact(period="2023-13")]})
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert any(field.startswith("body.facts.0") for field in fields)


async def test_dry_run_writes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get("/v1/revision")).json()["revision"]
    response = await client.post("/v1/facts", params={"dry_run": "true"}, json={"facts": [fact()]})
    assert response.json()["imported"] == 1
    assert response.json()["dry_run"] is True
    assert await current(client) == []
    # The revision reported is one that exists: the current one, as nothing was written.
    assert response.json()["revision"] == before
    assert (await client.get("/v1/revision")).json()["revision"] == before


@pytest.mark.parametrize("reverse", [False, True])
async def test_current_value_does_not_depend_on_arrival_order(
    client: httpx.AsyncClient, reverse: bool
) -> None:
    estimate = {
        "documents": [{"name": "bao-cao-thang-11.txt", "published": "2023-11-25"}],
        "facts": [fact(doc="bao-cao-thang-11.txt", status="estimate", value=3090000)],
    }
    actual = {
        "documents": [{"name": "bao-cao-nam.txt", "published": "2024-01-10"}],
        "facts": [fact(doc="bao-cao-nam.txt", value=3100000)],
    }
    revised = {
        "documents": [{"name": "bao-cao-dieu-chinh.txt", "published": "2024-03-01"}],
        "facts": [fact(doc="bao-cao-dieu-chinh.txt", value=3105000)],
    }
    batches = [estimate, actual, revised]
    for batch in reversed(batches) if reverse else batches:
        assert (await client.post("/v1/facts", json=batch)).status_code == 200
    items = await current(client, transformation="level")
    assert [(item["value"], item["status"]) for item in items] == [(3105000, "actual")]
    history = await current(client, transformation="level", include_history="true")
    assert sorted(item["value"] for item in history) == [3090000, 3100000, 3105000]


async def test_actual_beats_a_newer_estimate(client: httpx.AsyncClient) -> None:
    await client.post(
        "/v1/facts",
        json={
            "documents": [{"name": "a.txt", "published": "2023-06-01"}],
            "facts": [fact(doc="a.txt", value=1000)],
        },
    )
    await client.post(
        "/v1/facts",
        json={
            "documents": [{"name": "b.txt", "published": "2023-12-01"}],
            "facts": [fact(doc="b.txt", value=1200, status="estimate")],
        },
    )
    assert [item["value"] for item in await current(client)] == [1000]


async def test_two_documents_corroborate_one_version(client: httpx.AsyncClient) -> None:
    for name in ("x.txt", "y.txt"):
        await client.post("/v1/facts", json={"facts": [fact(doc=name)]})
    items = await current(client)
    assert len(items) == 1
    assert sorted(source["document_name"] for source in items[0]["sources"]) == ["x.txt", "y.txt"]


async def test_filters_pages_csv_and_etag(client: httpx.AsyncClient) -> None:
    facts = [
        fact(period=str(year), value=year * 1000, start=year, end=year + 4)
        for year in range(2001, 2024)
    ]
    facts.append(fact(scope="VN-38", value=5))
    await client.post("/v1/facts", json={"facts": facts})

    ranged = await current(client, area="40", start_period="2010", end_period="2012")
    assert [item["period"] for item in ranged] == ["2010", "2011", "2012"]
    both = await current(client, area="40,38", start_period="2023")
    assert {item["area"] for item in both} == {"38", "40"}

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5, "area": "40"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/observations", params=params)).json()
        seen.extend(item["period"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [str(year) for year in range(2001, 2024)]

    csv = await client.get("/v1/observations", params={"format": "csv", "area": "38"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("indicator,area,")
    assert len(lines) == 2 and ",38," in lines[1]

    first = await client.get("/v1/observations", params={"area": "38"})
    etag = first.headers["ETag"]
    cached = await client.get(
        "/v1/observations", params={"area": "38"}, headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
    await client.post("/v1/facts", json={"facts": [fact(scope="VN-38", value=6, doc="n.txt")]})
    changed = await client.get(
        "/v1/observations", params={"area": "38"}, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_period": "20x3"}, "query.start_period"),
        ({"limit": 51}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"frequency": "Z"}, "query.frequency"),
    ],
)
async def test_bad_queries_are_4xx_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/observations", params=params)
    assert 400 <= response.status_code < 500
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_catalogue_and_areas(client: httpx.AsyncClient) -> None:
    indicators = (await client.get("/v1/indicators")).json()
    assert "telecom.subscribers.total" in {row["code"] for row in indicators}
    areas = {row["code"]: row for row in (await client.get("/v1/areas")).json()}
    assert areas["38"]["name_vi"] == "Thanh Hóa"
    # one entry per GSO code; the 34 codes of the 2025 list are all 2004 codes kept by a merger
    assert len([code for code in areas if code != "VN"]) == 63
    hue = areas["46"]
    assert hue["name_vi"] == "Huế"
    assert [v["name_vi"] for v in hue["versions"]] == ["Thừa Thiên Huế", "Huế"]
    missing = await client.get("/v1/indicators/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "indicators.unknown_indicator"


async def test_area_codes_are_the_gsos_with_iso_beside_them(client: httpx.AsyncClient) -> None:
    """The GSO's 01 is Hà Nội and ISO's VN-01 is Lai Châu: codes are the GSO's own, ISO's is
    an attribute and an alias that says it is ISO's, and the old VN-xx form redirects."""
    areas = {row["code"]: row for row in (await client.get("/v1/areas")).json()}
    assert areas["01"]["name_vi"] == "Hà Nội" and areas["01"]["iso_3166_2"] == "VN-HN"
    assert areas["12"]["name_vi"] == "Lai Châu" and areas["12"]["iso_3166_2"] == "VN-01"
    assert areas["38"]["iso_3166_2"] == "VN-21"
    assert {v["iso_3166_2"] for v in areas["38"]["versions"]} == {"VN-21", None}
    lai_chau = await client.get("/v1/areas/iso:VN-01")
    assert lai_chau.status_code == 200 and lai_chau.json()["code"] == "12"
    old = await client.get("/v1/areas/VN-01")
    assert old.status_code == 308 and old.headers["Deprecation"] == "true"
    assert old.headers["Location"] == "/v1/areas/01"
    assert "VN-38" in old.json()["detail"] and "38" in old.json()["detail"]
    moved = await client.get("/v1/observations", params={"area": "VN-38,VN-46", "limit": 5})
    assert moved.status_code == 308
    assert moved.headers["Location"] == "/v1/observations?area=38%2C46&limit=5"


async def test_areas_carry_both_code_lists_and_the_2025_merger_mapping(
    client: httpx.AsyncClient,
) -> None:
    async def codes(**params: str) -> set[str]:
        response = await client.get("/v1/areas", params=params)
        assert response.status_code == 200
        return {row["code"] for row in response.json()}

    assert len(await codes(code_list="2004")) == 64  # VN and 63 provinces
    assert len(await codes(code_list="2025")) == 35  # VN and 34 provinces
    assert await codes(on="2023-12-31") == await codes(code_list="2004")
    assert await codes(on="2026-01-01") == await codes(code_list="2025")

    bac_ninh = (await client.get("/v1/areas/24")).json()
    assert (bac_ninh["name_vi"], bac_ninh["code_list"]) == ("Bắc Ninh", "2025")
    assert bac_ninh["predecessors"] == ["24", "27"]
    first, second = bac_ninh["versions"]
    assert (first["name_vi"], first["valid_to"], first["successor"]) == (
        "Bắc Giang",
        "2025-06-30",
        "24",
    )
    assert (second["name_vi"], second["valid_from"]) == ("Bắc Ninh", "2025-07-01")
    merged = (await client.get("/v1/areas/27")).json()
    assert (merged["valid_to"], merged["successor"], merged["code_list"]) == (
        "2025-06-30",
        "24",
        "2004",
    )
    hcmc = (await client.get("/v1/areas/79")).json()
    assert hcmc["predecessors"] == ["74", "77", "79"]

    missing = await client.get("/v1/areas/99")
    assert missing.status_code == 404
    assert missing.json()["code"] == "indicators.unknown_area"
    bad = await client.get("/v1/areas", params={"code_list": "1976"})
    assert bad.status_code == 422


async def test_each_source_keeps_its_fact_s_doubts(client: httpx.AsyncClient) -> None:
    """A fact's doubts and confidence stay with its source and are served with it, on the
    observations and on the series points; a fact sent without them has none."""
    doubted = fact(doubts=["period_from_report", "unit_inferred"], confidence=0.64)
    batch = {
        "documents": [
            {"id": "d1", "name": "a.txt", "published": "2023-12-20"},
            {"id": "d2", "name": "b.txt", "published": "2023-12-21"},
        ],
        "facts": [{**doubted, "doc": "a.txt"}, {**fact(), "doc": "b.txt"}],
    }
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 200, response.text
    items = await current(client, indicator="telecom.subscribers.total", area="40")
    sources = {s["document_name"]: s for s in items[0]["sources"]}
    assert (sources["a.txt"]["doubts"], sources["a.txt"]["confidence"]) == (
        ["period_from_report", "unit_inferred"],
        0.64,
    )
    assert (sources["b.txt"]["doubts"], sources["b.txt"]["confidence"]) == ([], 1.0)
    response = await client.get(
        "/v1/indicators/telecom.subscribers.total/series", params={"area": "40"}
    )
    assert response.status_code == 200, response.text
    points = {s["document"]: s for s in response.json()[0]["sources"]}
    assert (points["a.txt"]["doubts"], points["a.txt"]["confidence"]) == (
        ["period_from_report", "unit_inferred"],
        0.64,
    )


async def test_an_unknown_doubt_code_is_422(client: httpx.AsyncClient) -> None:
    batch = {"documents": [], "facts": [fact(doubts=["not_a_doubt"])]}
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 422, response.text
    assert "doubts" in response.text
