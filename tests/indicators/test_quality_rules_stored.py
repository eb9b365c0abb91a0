"""Every rule raises its flag through a real import and `GET /v1/quality`, on SQLite or
PostgreSQL (the engine's own cases, without a database, are in tests/indicators/quality)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.catalogue import scope_of
from tests.support import fact, running

pytestmark = pytest.mark.asyncio

AREA = "40"


@pytest_asyncio.fixture
async def client(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        yield http


def level(doc: str, start: int, indicator: str, value: float, **extra: Any) -> dict[str, Any]:
    return fact(
        doc=doc,
        start=start,
        end=start + 5,
        text=str(value),
        value=value,
        indicator=indicator,
        scope=scope_of(AREA),
        **extra,
    )


def stated(doc: str, start: int, indicator: str, value: float, basis: str, **extra: Any) -> Any:
    role = extra.pop("role", "change")
    return level(doc, start, indicator, value, unit="percent", role=role, basis=basis, **extra)


TOTAL = "telecom.subscribers.total"
# rule -> the facts (by document) that must raise it
CASES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "change_vs_levels": {
        "a-2022.txt": [level("a-2022.txt", 10, TOTAL, 1_000_000, period="2022")],
        "a-2023.txt": [
            level("a-2023.txt", 10, TOTAL, 1_010_000),
            stated("a-2023.txt", 30, TOTAL, 9.5, "previous_period"),
        ],
    },
    "plan_vs_target": {
        "b-2023.txt": [
            level("b-2023.txt", 10, TOTAL, 1_000_000),
            level("b-2023.txt", 30, TOTAL, 1_200_000, status="target"),
            stated("b-2023.txt", 50, TOTAL, 95, "plan", role="ratio"),
        ],
    },
    "components_vs_total": {
        "c-2023.txt": [
            level("c-2023.txt", 10, TOTAL, 3_000_000),
            level("c-2023.txt", 30, "telecom.subscribers.fixed", 25_000),
            level("c-2023.txt", 50, "telecom.subscribers.mobile", 2_500_000),
        ],
    },
    "conflicting_values": {
        "d-1.txt": [level("d-1.txt", 10, "postal.enterprises", 500)],
        "d-2.txt": [level("d-2.txt", 10, "postal.enterprises", 600)],
    },
    "revised_estimate": {
        "e-1.txt": [level("e-1.txt", 10, TOTAL, 1_000_000, status="estimate")],
        "e-2.txt": [level("e-2.txt", 10, TOTAL, 800_000)],
    },
    "same_document_values": {
        "f-2023.txt": [
            level("f-2023.txt", 10, "postal.service_points", 122),
            level("f-2023.txt", 30, "postal.service_points", 61),
        ],
    },
    "implausible_level": {
        "g-2023.txt": [
            level("g-2023.txt", 10, "egov.digital_signature_rate", 120, unit="percent"),
        ],
    },
    "implausible_jump": {
        "h-2022.txt": [
            level("h-2022.txt", 10, "digital_society.people_trained", 700, period="2022")
        ],
        "h-2023.txt": [level("h-2023.txt", 10, "digital_society.people_trained", 33_475)],
    },
    "density_vs_count": {
        "i-2023.txt": [
            level("i-2023.txt", 10, "telecom.phone_density", 23, unit="per_100_people"),
            level("i-2023.txt", 30, TOTAL, 4_429),
        ],
    },
}


@pytest.mark.parametrize("rule", sorted(CASES))
async def test_each_rule_raises_its_flag_on_import(client: httpx.AsyncClient, rule: str) -> None:
    for name, facts in CASES[rule].items():
        batch = {"documents": [{"name": name, "published": "2024-01-15"}], "facts": facts}
        response = await client.post("/v1/facts", json=batch)
        assert response.status_code == 200, response.text
    answer = await client.get("/v1/quality", params={"rule": rule})
    assert answer.status_code == 200, answer.text
    flags = answer.json()["items"]
    assert len(flags) >= 1, (rule, (await client.get("/v1/quality")).json()["counts"])
    flag = flags[0]
    assert flag["area"] == AREA and flag["status"] == "open"
    assert flag["message_vi"] and flag["message_en"] and flag["message_vi"] != flag["message_en"]
    documents = {
        source["document_name"] for item in flag["observations"] for source in item["sources"]
    }
    assert documents <= set(CASES[rule])
    # the observations it concerns carry it
    observations = await client.get("/v1/observations", params={"area": AREA})
    noted = {note["rule"] for item in observations.json()["items"] for note in item["quality"]}
    assert rule in noted


@pytest.mark.parametrize("target_first", [True, False])
async def test_a_quarter_against_the_years_target_in_either_order(
    client: httpx.AsyncClient, target_first: bool
) -> None:
    """A quarter's "đạt 40% kế hoạch năm" against the year's target: the flag is filed under
    the quarter, and raised whichever report comes first; a later figure of the year, which
    re-checks the year's parts, leaves it be."""
    plan = {
        "documents": [{"name": "ke-hoach-2024.txt", "published": "2024-01-10"}],
        "facts": [level("ke-hoach-2024.txt", 10, TOTAL, 2_000_000, period="2024", status="target")],
    }
    quarter = {
        "documents": [{"name": "quy-1-2024.txt", "published": "2024-04-10"}],
        "facts": [
            level("quy-1-2024.txt", 10, TOTAL, 500_000, period="2024-Q1"),
            stated("quy-1-2024.txt", 30, TOTAL, 40, "plan", role="ratio", period="2024-Q1"),
        ],
    }
    for batch in (plan, quarter) if target_first else (quarter, plan):
        response = await client.post("/v1/facts", json=batch)
        assert response.status_code == 200, response.text
    flags = (await client.get("/v1/quality", params={"rule": "plan_vs_target"})).json()
    assert [(f["period"], f["status"]) for f in flags["items"]] == [("2024-Q1", "open")]
    # a later figure of the year re-checks its parts: the quarter's flag stays
    year = {
        "documents": [{"name": "nam-2024.txt", "published": "2025-01-10"}],
        "facts": [level("nam-2024.txt", 10, TOTAL, 2_100_000, period="2024")],
    }
    again = await client.post("/v1/facts", json=year)
    assert again.status_code == 200, again.text
    assert again.json()["flags_cleared"] == 0
    assert (await client.get("/v1/quality", params={"rule": "plan_vs_target"})).json()["count"] == 1
