"""The gateway's SDMX routes: one documented route per resource whose OpenAPI examples answer,
Accept and Accept-Language passed on, and what SDMX clients read through it."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sdmx
from fastapi import FastAPI
from sdmx.message import StructureMessage

from chiso_gateway.main import create_app
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import bearer, gateway_settings, new_client, post_facts
from tests.indicators.interop import pysdmx_structures
from tests.support import fact, running, serving

pytestmark = pytest.mark.asyncio
# Area codes as the services write them (CONTRACT19: one place to change them).
THANH_HOA = "38"
ROUTES = {
    "/sdmx/2.1/dataflow/{agency}/{resource_id}/{version}",
    "/sdmx/2.1/datastructure/{agency}/{resource_id}/{version}",
    "/sdmx/2.1/codelist/{agency}/{resource_id}/{version}",
    "/sdmx/2.1/conceptscheme/{agency}/{resource_id}/{version}",
    "/sdmx/2.1/data/{flow}/{key}",
    "/sdmx/2.1/availableconstraint/{flow}/{key}/{provider}/{component_id}",
}
CSV_BOTH = "application/vnd.sdmx.data+csv;version=1.0.0;labels=both"
KEY = f"A.{THANH_HOA}.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        thanh_hoa = fact(doc="thanh-hoa-2023.txt", scope="VN-38", value=2980000)
        post_facts(url, thanh_hoa, published="2023-12-20")
        yield url


@pytest_asyncio.fixture
async def gateway(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    app = create_app(settings)
    async with running(app) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["indicators:read"])))
        yield http, app


def _example_url(path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The path filled with each parameter's first example, and the query examples."""
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        examples = parameter.get("examples") or parameter.get("schema", {}).get("examples")
        if not examples:
            continue
        example = examples[0] if isinstance(examples, list) else next(iter(examples.values()))
        value = example["value"] if isinstance(example, dict) else example
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "query":
            query[parameter["name"]] = str(value)
    assert "{" not in path, path
    return path, query


async def test_each_sdmx_resource_is_documented_and_its_examples_answer(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = gateway
    paths = app.openapi()["paths"]
    sdmx_paths = {path for path in paths if path.startswith("/sdmx")}
    assert sdmx_paths == ROUTES  # no opaque /sdmx/{rest}
    for path in sorted(ROUTES):
        operation = paths[path]["get"]
        assert operation["summary"] and operation["responses"]["200"]["content"]
        url, query = _example_url(path, operation)
        response = await http.get(url, params=query)
        assert response.status_code == 200, (url, query, response.text)
    assert "CHISO,DF_ICT,1.0" not in str(paths)


async def test_accept_and_accept_language_reach_indicators(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, _ = gateway
    url = f"/sdmx/2.1/data/CHISO,DF_PROVINCE_ICT,1.0/{KEY}"
    vietnamese = await http.get(url, headers={"Accept": CSV_BOTH})
    english = await http.get(url, headers={"Accept": CSV_BOTH, "Accept-Language": "en"})
    assert vietnamese.text.startswith("DATAFLOW,FREQ: Tần suất,")
    assert english.text.startswith("DATAFLOW,FREQ: Frequency,")
    assert (vietnamese.headers["X-Cache"], english.headers["X-Cache"]) == ("MISS", "MISS")
    refused = await http.get(url, headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert refused.json()["code"] == "indicators.sdmx_not_acceptable"
    listed = [e["message"] for e in refused.json()["errors"]]
    assert "application/vnd.sdmx.data+csv;version=1.0.0" in listed
    nowhere = await http.get("/sdmx/2.1/nothing-here")
    assert nowhere.status_code == 404 and nowhere.json()["code"].startswith("gateway.")


async def test_sdmx_clients_read_what_the_gateway_forwards(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    from pysdmx.model import AvailabilityConstraint, Dataflow

    http, _ = gateway
    structure = await http.get(
        "/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/1.0",
        params={"references": "all"},
        headers={"Accept": "application/vnd.sdmx.structure+json;version=2.0.0"},
    )
    flows = [s for s in pysdmx_structures(structure.text) if isinstance(s, Dataflow)]
    assert [flow.id for flow in flows] == ["DF_PROVINCE_ICT"]
    # sdmx1's and pysdmx's short form of availability: flow and key only
    available = await http.get(f"/sdmx/2.1/availableconstraint/DF_PROVINCE_ICT/A.{THANH_HOA}....")
    assert available.status_code == 200, available.text
    message = sdmx.read_sdmx(io.BytesIO(available.content))
    assert isinstance(message, StructureMessage)
    (constraint,) = message.constraint.values()
    assert constraint.role.role.name == "actual"
    (found,) = pysdmx_structures(available.text)
    assert isinstance(found, AvailabilityConstraint)
    assert found.obs_count == 1
    data = await http.get(f"/sdmx/2.1/data/DF_PROVINCE_ICT/{KEY}")
    assert re.search(rb'<gen:ObsValue value="2980000"', data.content)
