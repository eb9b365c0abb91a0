"""What the schemathesis run found, one request each: the answer is the one the OpenAPI
document declares (status, media type, body), and no bad input is a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import schemathesis
from fastapi import FastAPI

from chiso_gateway.auth.clients import SCOPES
from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from tests.fuzz.harness import CHECKS
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import running, serving

pytestmark = pytest.mark.asyncio


def assert_documented(
    app: FastAPI, route: str, response: httpx.Response, **path_parameters: str
) -> None:
    """`response` to a request of `route` ("/v1/areas/{code}") passes every check the fuzz
    run makes, against `app`'s OpenAPI document."""
    schema = schemathesis.openapi.from_dict(app.openapi())
    operation = schema[route][response.request.method]
    case = operation.Case(path_parameters=path_parameters or None)
    case.validate_response(response, checks=list(CHECKS.values()))


# An app called in-process, and the app (for its OpenAPI document).
Served = tuple[httpx.AsyncClient, FastAPI]


@pytest_asyncio.fixture
async def indicators(tmp_path: Path, indicators_db: str) -> AsyncIterator[Served]:
    app = create_indicators(IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db))
    async with running(app) as http:
        yield http, app


async def test_dhis2_json_route_documents_its_csv(indicators: Served) -> None:
    response = await indicators[0].get("/dhis2/api/dataValueSets", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert_documented(indicators[1], "/dhis2/api/dataValueSets", response)


async def test_series_documents_a_bad_cursor(indicators: Served) -> None:
    response = await indicators[0].get(
        "/v1/indicators/telecom.subscribers.total/series", params={"area": "38", "cursor": "®"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "indicators.bad_cursor"
    assert_documented(
        indicators[1],
        "/v1/indicators/{code}/series",
        response,
        code="telecom.subscribers.total",
    )


@pytest.mark.parametrize("path", ["/v1/facts", "/dhis2/api/dataValueSets"])
async def test_imports_document_a_body_that_is_not_utf8(indicators: Served, path: str) -> None:
    response = await indicators[0].post(
        path, content=b"\xb1\x86", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_documented(indicators[1], path, response)


@pytest.fixture
def upstreams(tmp_path: Path, indicators_db: str, ingest_db: str) -> Iterator[tuple[str, str]]:
    with (
        serving(
            create_indicators(IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db))
        ) as indicators_url,
        serving(
            create_ingest(
                IngestSettings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
            )
        ) as ingest_url,
    ):
        yield indicators_url, ingest_url


@pytest_asyncio.fixture
async def gateway(
    tmp_path: Path, gateway_db: str, upstreams: tuple[str, str]
) -> AsyncIterator[Served]:
    indicators_url, ingest_url = upstreams
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, ingest_url=ingest_url)
    app = create_gateway(settings)
    async with running(app) as http:
        http.headers.update(await bearer(http, await new_client(settings, sorted(SCOPES))))
        yield http, app


SDMX_DATAFLOW = "/sdmx/2.1/dataflow/{agency}/{resource_id}/{version}"
SDMX_DATA = "/sdmx/2.1/data/{flow}/{key}"
FLOW_PATH = {"agency": "CHISO", "resource_id": "DF_PROVINCE_ICT", "version": "latest"}


@pytest.mark.parametrize(
    "accept",
    ["application/vnd.sdmx.structure+xml;version=2.1", "application/vnd.sdmx.structure+json"],
)
async def test_sdmx_structures_document_what_indicators_answers(
    gateway: Served, accept: str
) -> None:
    url = "/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/latest"
    response = await gateway[0].get(url, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept.split(";")[0])
    assert_documented(gateway[1], SDMX_DATAFLOW, response, **FLOW_PATH)
    refused = await gateway[0].get(url, headers={"Accept": "text/csv"})
    assert refused.status_code == 406, refused.text
    assert_documented(gateway[1], SDMX_DATAFLOW, refused, **FLOW_PATH)


async def test_sdmx_data_documents_what_indicators_refuses(gateway: Served) -> None:
    short_key = {"flow": "DF_PROVINCE_ICT", "key": "A.38"}
    response = await gateway[0].get("/sdmx/2.1/data/DF_PROVINCE_ICT/A.38")
    assert response.status_code == 400, response.text
    assert_documented(gateway[1], SDMX_DATA, response, **short_key)
    # a parameter only indicators checks (the gateway passes it as text) comes back as its 422
    key = {"flow": "DF_PROVINCE_ICT", "key": "all"}
    response = await gateway[0].get(
        "/sdmx/2.1/data/DF_PROVINCE_ICT/all", params={"updatedAfter": "x"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "indicators.invalid"
    assert_documented(gateway[1], SDMX_DATA, response, **key)


async def test_upload_documents_ingest_refusing_a_body(gateway: Served) -> None:
    response = await gateway[0].post(
        "/v1/documents", content=b"\x00", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "ingest.bad_json"
    assert_documented(gateway[1], "/v1/documents", response)


async def test_audit_after_id_past_the_largest_row_id_is_invalid(
    gateway: Served,
) -> None:
    largest = await gateway[0].get("/v1/audit", params={"after_id": 2**63 - 1})
    assert largest.status_code == 200, largest.text
    assert largest.json()["data"] == []
    beyond = await gateway[0].get("/v1/audit", params={"after_id": 2**63})
    assert beyond.status_code == 422, beyond.text
    assert beyond.json()["errors"][0]["field"] == "query.after_id"


async def test_compare_with_an_empty_indicator_is_invalid(gateway: Served) -> None:
    response = await gateway[0].get("/v1/compare", params={"indicator": "", "areas": "38"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.indicator"


@pytest.mark.parametrize(
    ("path", "params", "status", "media_type"),
    [
        ("/dhis2/api/dataValueSets.csv", {}, 200, "text/csv"),
        ("/dhis2/api/organisationUnits", {"fields": "id,code,parent[id]"}, 200, "application/json"),
        ("/dhis2/api/dataValueSets", {"startDate": "not-a-date"}, 422, "application/json"),
        ("/dhis2/api/dataSets", {"filter": "periodType"}, 422, "application/json"),
    ],
)
async def test_dhis2_routes_document_what_indicators_answers(
    gateway: Served, path: str, params: dict[str, str], status: int, media_type: str
) -> None:
    response = await gateway[0].get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(media_type)
    if status >= 400:  # a DHIS2 WebMessage, passed on
        assert response.json()["httpStatusCode"] == status
    assert_documented(gateway[1], path, response)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            {
                "period": "2023",
                "orgUnit": "38",
                "dataValues": [{"dataElement": "x", "value": "1"}],
            },
            409,
        ),
        ({"dataSet": "nope", "dataValues": []}, 409),
        ({"dataValues": "x"}, 400),
    ],
)
async def test_dhis2_import_documents_its_web_messages(
    indicators: Served, body: dict[str, object], status: int
) -> None:
    response = await indicators[0].post("/dhis2/api/dataValueSets", json=body)
    assert response.status_code == status, response.text
    assert_documented(indicators[1], "/dhis2/api/dataValueSets", response)
