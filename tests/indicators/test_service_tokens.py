"""Indicators answers only other chiso services: writes always need a service token, reads
unless OPEN_READS is set (security review item 10)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.errors import PROBLEM_MEDIA_TYPE
from chiso_shared.service_auth import READ, WRITE, ServiceTokens
from tests.support import SERVICE_SECRET, fact, running, service_headers

pytestmark = pytest.mark.asyncio
BATCH = {"facts": [fact()]}
DHIS2 = {
    "dataValues": [
        {
            "dataElement": "telecom.subscribers.total",
            "period": "2023",
            "orgUnit": "38",
            "categoryOptionCombo": "LEVEL_COUNT",
            "attributeOptionCombo": "ACTUAL",
            "value": "2980000",
        }
    ]
}


@pytest_asyncio.fixture
async def anonymous(tmp_path: Path, indicators_db: str) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process indicators app, called without any service token."""
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings), service_token=False) as http:
        yield http


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    assert response.json()["code"] == f"service_auth.{code}"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_facts_without_a_token_are_refused(anonymous: httpx.AsyncClient) -> None:
    assert_refused(await anonymous.post("/v1/facts", json=BATCH), 401, "token_missing")
    # Nothing was imported: a valid token reads no observation.
    read = await anonymous.get("/v1/observations", headers=service_headers("indicators"))
    assert read.status_code == 200, read.text
    assert read.json()["items"] == []


async def test_facts_with_a_token_for_another_service_are_refused(
    anonymous: httpx.AsyncClient,
) -> None:
    headers = service_headers("ingest")
    response = await anonymous.post("/v1/facts", json=BATCH, headers=headers)
    assert_refused(response, 401, "wrong_audience")


async def test_an_expired_token_is_refused(anonymous: httpx.AsyncClient) -> None:
    an_hour_ago = ServiceTokens(SERVICE_SECRET, "tests", ttl=60, clock=lambda: time.time() - 3600)
    headers = an_hour_ago.headers("indicators", [WRITE])
    assert_refused(
        await anonymous.post("/v1/facts", json=BATCH, headers=headers), 401, "token_expired"
    )


async def test_a_token_signed_with_another_secret_is_refused(anonymous: httpx.AsyncClient) -> None:
    headers = service_headers("indicators", secret="another-secret-0123456789abcdef0123")
    response = await anonymous.post("/v1/facts", json=BATCH, headers=headers)
    assert_refused(response, 401, "token_invalid")
    garbage = {"Authorization": "Bearer not.a.jwt"}
    assert_refused(
        await anonymous.post("/v1/facts", json=BATCH, headers=garbage), 401, "token_invalid"
    )


async def test_a_read_only_token_cannot_write(anonymous: httpx.AsyncClient) -> None:
    headers = service_headers("indicators", (READ,))
    response = await anonymous.post("/v1/facts", json=BATCH, headers=headers)
    assert_refused(response, 403, "scope_missing")


async def test_a_valid_token_imports(anonymous: httpx.AsyncClient) -> None:
    headers = service_headers("indicators", (WRITE,))
    response = await anonymous.post("/v1/facts", json=BATCH, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1


async def test_dhis2_import_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    url = "/dhis2/api/dataValueSets"
    assert_refused(await anonymous.post(url, json=DHIS2), 401, "token_missing")
    response = await anonymous.post(url, json=DHIS2, headers=service_headers("indicators"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    [
        "/v1/indicators",
        "/v1/areas",
        "/v1/series",
        "/v1/observations",
        "/v1/indicators/telecom.subscribers.total/series?area=40",
        "/sdmx/2.1/codelist/CHISO/CL_AREA",
        "/dhis2/api/dataValueSets.json",
    ],
)
async def test_reads_need_a_token_by_default(anonymous: httpx.AsyncClient, path: str) -> None:
    assert_refused(await anonymous.get(path), 401, "token_missing")
    allowed = await anonymous.get(path, headers=service_headers("indicators", (READ,)))
    assert allowed.status_code == 200, allowed.text


async def test_health_probes_stay_open(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 200


async def test_open_reads_open_reads_only(tmp_path: Path, indicators_db: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db, open_reads=True)
    async with running(create_app(settings), service_token=False) as anonymous:
        assert (await anonymous.get("/v1/observations")).status_code == 200
        assert (await anonymous.get("/sdmx/2.1/codelist/CHISO/CL_AREA")).status_code == 200
        assert_refused(await anonymous.post("/v1/facts", json=BATCH), 401, "token_missing")


async def test_the_openapi_document_declares_the_bearer_scheme(
    anonymous: httpx.AsyncClient,
) -> None:
    document = (await anonymous.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["serviceToken"]["scheme"] == "bearer"
    assert {"serviceToken": []} in document["paths"]["/v1/facts"]["post"]["security"]
    assert {"401", "403"} <= set(document["paths"]["/v1/facts"]["post"]["responses"])
