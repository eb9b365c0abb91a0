"""Flags raised, kept, cleared and resolved by real imports, on SQLite or PostgreSQL.

The rules' own cases are in tests/indicators/quality; this file is about the store: which
flags an import leaves in the database and how `/v1/quality` serves them."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.quality import check, load_book
from chiso_indicators.quality.offline import observations_from_facts
from chiso_indicators.settings import Settings
from chiso_shared.facts import Fact
from tests.support import fact, running

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db, max_page_size=50)
    async with running(create_app(settings)) as http:
        yield http


def report_2022(value: float = 2_000_000) -> dict[str, Any]:
    return {
        "documents": [{"id": "r2022", "name": "bao-cao-2022.txt", "published": "2022-12-15"}],
        "facts": [fact(doc="bao-cao-2022.txt", period="2022", value=value, status="estimate")],
    }


def report_2023(change: float = 9.5) -> dict[str, Any]:
    """2023: 2,020,000 subscribers, "tăng `change`% so với cùng kỳ"."""
    name = "bao-cao-2023.txt"
    return {
        "documents": [{"id": "r2023", "name": name, "published": "2023-12-18"}],
        "facts": [
            fact(doc=name, start=100, end=109, value=2_020_000, status="estimate"),
            fact(
                doc=name,
                start=120,
                end=123,
                text=str(change).replace(".", ","),
                value=change,
                unit="percent",
                role="change",
                basis="previous_period",
                status="estimate",
            ),
        ],
    }


async def post(client: httpx.AsyncClient, batch: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/facts", json=batch)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def flags(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/quality", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_stated_change_that_the_levels_contradict_is_flagged(
    client: httpx.AsyncClient,
) -> None:
    assert (await post(client, report_2022()))["flags_raised"] == 0
    summary = await post(client, report_2023(change=9.5))
    assert summary["flags_raised"] == 1
    page = await flags(client)
    assert page["count"] == 1
    flag = page["items"][0]
    assert (flag["rule"], flag["indicator"], flag["area"], flag["period"]) == (
        "change_vs_levels",
        "telecom.subscribers.total",
        "40",
        "2023",
    )
    assert flag["status"] == "open" and flag["resolution"] is None
    assert "9,5" in flag["message_vi"] and "9.5" in flag["message_en"]
    values = sorted(item["value"] for item in flag["observations"])
    assert values == [9.5, 2_000_000, 2_020_000]
    documents = {s["document_id"] for item in flag["observations"] for s in item["sources"]}
    assert documents == {"r2022", "r2023"}
    assert page["counts"]["rule"] == {"change_vs_levels": 1}
    assert page["counts"]["area"] == {"40": 1}
    assert page["counts"]["document"] == {"r2022": 1, "r2023": 1}
    assert (await flags(client, area="01"))["count"] == 0
    assert (await flags(client, document_id="r2022"))["count"] == 1


async def test_a_change_that_matches_raises_nothing(client: httpx.AsyncClient) -> None:
    await post(client, report_2022())
    assert (await post(client, report_2023(change=1.0)))["flags_raised"] == 0
    assert (await flags(client))["count"] == 0


async def test_the_order_of_the_reports_does_not_matter(client: httpx.AsyncClient) -> None:
    """The later report first: the flag comes when the earlier level arrives."""
    assert (await post(client, report_2023(change=9.5)))["flags_raised"] == 0
    assert (await post(client, report_2022()))["flags_raised"] == 1
    assert (await flags(client))["count"] == 1


async def test_a_new_figure_that_removes_the_clash_clears_the_flag(
    client: httpx.AsyncClient,
) -> None:
    await post(client, report_2022())
    await post(client, report_2023(change=9.5))
    # an actual for 2022 (a later report), which the 2023 change agrees with: it becomes the
    # current 2022 value, and the flag goes
    actual = {
        "documents": [{"id": "r2022b", "name": "nien-giam-2022.txt", "published": "2023-06-30"}],
        "facts": [fact(doc="nien-giam-2022.txt", period="2022", value=1_845_000)],
    }
    summary = await post(client, actual)
    assert summary["flags_cleared"] == 1
    assert (await flags(client, rule="change_vs_levels"))["count"] == 0


async def test_withdrawing_a_figure_clears_its_flag(client: httpx.AsyncClient) -> None:
    await post(client, report_2022())
    batch = report_2023(change=9.5)
    await post(client, batch)
    change = batch["facts"][1]
    summary = await post(
        client, {"documents": batch["documents"], "facts": [], "withdrawn": [change]}
    )
    assert summary["flags_cleared"] == 1
    assert (await flags(client, status="all"))["count"] == 0


async def test_resolving_a_flag_is_kept_while_the_figures_stay(client: httpx.AsyncClient) -> None:
    await post(client, report_2022())
    await post(client, report_2023(change=9.5))
    flag = (await flags(client))["items"][0]
    stated = next(item for item in flag["observations"] if item["value"] == 9.5)

    refused = await client.post(
        f"/v1/quality/{flag['id']}/resolution", json={"action": "explain", "by": "ch_a"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"]
    stranger = await client.post(
        f"/v1/quality/{flag['id']}/resolution",
        json={"action": "accept", "by": "ch_a", "observation_id": 999_999},
    )
    assert stranger.status_code == 422, stranger.text
    missing = await client.post(
        "/v1/quality/999999/resolution", json={"action": "explain", "by": "a", "note": "x"}
    )
    assert missing.status_code == 404

    before = (await client.get("/v1/revision")).json()["revision"]
    response = await client.post(
        f"/v1/quality/{flag['id']}/resolution",
        json={"action": "accept", "by": "ch_a", "observation_id": stated["id"], "note": "đúng"},
    )
    assert response.status_code == 200, response.text
    # the reads that carry the flag's status change: caches keyed on the revision must drop
    assert (await client.get("/v1/revision")).json()["revision"] == before + 1
    resolved = response.json()
    assert resolved["status"] == "resolved"
    assert resolved["resolution"]["action"] == "accept"
    assert resolved["resolution"]["by"] == "ch_a"
    assert resolved["resolution"]["observation_id"] == stated["id"]
    assert (await flags(client))["count"] == 0
    assert (await flags(client, status="resolved"))["count"] == 1

    # the same reports again (a re-delivery): the finding is the same, the resolution stays
    await post(client, report_2023(change=9.5))
    again = (await flags(client, status="all"))["items"]
    assert [(f["id"], f["status"]) for f in again] == [(flag["id"], "resolved")]


async def test_paging_and_filters(client: httpx.AsyncClient) -> None:
    """Several areas, each with its contradiction: pages follow the cursor, filters narrow."""
    for area in ("01", "38", "40"):
        for batch in (report_2022(), report_2023(change=9.5)):
            for item in batch["facts"]:
                item["scope"] = f"VN-{area}"
                item["doc"] = f"{area}-{item['doc']}"
            batch["documents"] = [
                meta | {"id": f"{area}-{meta['id']}", "name": f"{area}-{meta['name']}"}
                for meta in batch["documents"]
            ]
            await post(client, batch)
    first = await flags(client, limit=2)
    assert first["count"] == 3 and len(first["items"]) == 2 and first["next_cursor"]
    second = await flags(client, limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    areas = {f["area"] for f in first["items"] + second["items"]}
    assert areas == {"01", "38", "40"}
    # the page says where the next one is (RFC 8288) and how many there are in all
    page = await client.get("/v1/quality", params={"limit": 2, "severity": "warning"})
    assert page.headers["X-Total-Count"] == str(page.json()["count"])
    following = httpx.URL(page.links["next"]["url"])
    assert following.params["cursor"] == page.json()["next_cursor"]
    assert following.params["severity"] == "warning" and following.params["limit"] == "2"
    assert (await flags(client, area=["01", "iso:VN-21"]))["count"] == 2
    assert (await flags(client, rule="implausible_level"))["count"] == 0
    bad = await client.get("/v1/quality", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    too_big = await client.get("/v1/quality", params={"limit": 51})
    assert too_big.status_code == 422


async def test_a_dry_run_reports_flags_and_keeps_none(client: httpx.AsyncClient) -> None:
    await post(client, report_2022())
    response = await client.post("/v1/facts", params={"dry_run": "true"}, json=report_2023())
    assert response.status_code == 200, response.text
    assert response.json()["flags_raised"] == 1
    assert (await flags(client, status="all"))["count"] == 0


async def test_flags_after_batches_in_any_order_are_one_check_over_everything(
    client: httpx.AsyncClient,
) -> None:
    """Monthly, quarterly and annual figures of 2019-2021 and 2024 (a gap of years), with
    year-on-year jumps and stated changes that miss, posted in shuffled batches: the flags the
    imports leave are exactly the findings of one check over every fact at once."""
    rng = random.Random(20)
    facts: list[dict[str, Any]] = []
    documents: dict[str, dict[str, Any]] = {}
    for year in (2019, 2020, 2021, 2024):
        periods = [f"{year}-{month:02d}" for month in range(1, 13)]
        periods += [f"{year}-Q{quarter}" for quarter in range(1, 5)] + [str(year)]
        for period in periods:
            name = f"bao-cao-{period}.txt"
            documents[name] = {"name": name, "published": f"{year + 1}-01-15"}
            for scope in ("VN-38", "VN-40"):
                level = rng.choice([1_000_000, 1_050_000, 1_900_000]) * (1 + (year - 2019) / 20)
                facts.append(fact(doc=name, period=period, scope=scope, value=round(level)))
                change = rng.choice([4.0, 5.0, 30.0])
                facts.append(
                    fact(
                        doc=name,
                        start=200,
                        end=204,
                        text=str(change),
                        period=period,
                        scope=scope,
                        value=change,
                        unit="percent",
                        role="change",
                        basis="previous_period",
                    )
                )
    rng.shuffle(facts)
    for offset in range(0, len(facts), 37):
        chunk = facts[offset : offset + 37]
        names = sorted({item["doc"] for item in chunk})
        await post(client, {"documents": [documents[n] for n in names], "facts": chunk})
    stored = await client.get("/v1/quality", params={"limit": 50, "status": "all"})
    keys: set[str] = set()
    page = stored.json()
    while True:
        keys.update(item["key"] for item in page["items"])
        if not page.get("next_cursor"):
            break
        page = (
            await client.get(
                "/v1/quality", params={"limit": 50, "status": "all", "cursor": page["next_cursor"]}
            )
        ).json()
    published = {name: doc["published"] for name, doc in documents.items()}
    expected = check(
        observations_from_facts([Fact.model_validate(item) for item in facts], published),
        load_book(),
    )
    assert expected, "the data should raise findings"
    assert keys == {finding.key for finding in expected}
