"""Client input in upstream paths: each value stays one encoded segment, dot segments are
refused, and odd input is a 4xx in the envelope, never a 500 or another upstream resource."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import bearer, gateway_settings, new_client, post_facts
from tests.support import fact, running, serving

pytestmark = pytest.mark.asyncio
INDICATOR = "/v1/indicators/telecom.subscribers.total"


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        post_facts(url, fact(), published="2023-12-20")
        yield url


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        scopes = ["indicators:read", "audit:read"]
        http.headers.update(await bearer(http, await new_client(settings, scopes)))
        yield http


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    return body


async def test_the_indicator_as_sent_is_read(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get(INDICATOR)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["code"] == "telecom.subscribers.total"


async def test_an_encoded_question_mark_stays_in_the_segment(gateway: httpx.AsyncClient) -> None:
    # Unquoted, `%3F` became `?` upstream: indicators read `telecom.subscribers.total` and the
    # rest as a query, answering an indicator the caller did not name.
    response = await gateway.get(INDICATOR + "%3Fx=1")
    assert _problem(response, 404)["code"] == "indicators.unknown_indicator"
    series = await gateway.get(INDICATOR + "%3Fx=1/series?area=40")
    assert _problem(series, 404)["code"] == "indicators.unknown_indicator"


async def test_an_encoded_percent_stays_as_sent(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/indicators/telecom%252Fsubscribers")
    body = _problem(response, 404)
    assert body["code"] == "indicators.unknown_indicator"
    assert "telecom%2Fsubscribers" in str(body["detail"])


@pytest.mark.parametrize(
    "path",
    [
        "/dhis2/api/dataElements/%2E%2E",
        "/sdmx/2.1/dataflow/%2E%2E/%2E%2E/latest",
        "/sdmx/2.1/data/%2E%2E/all",
        "/sdmx/2.1/availableconstraint/DF_PROVINCE_ICT/%2E%2E",
        "/v1/indicators/%2E%2E",
    ],
)
async def test_dot_and_empty_segments_are_refused(gateway: httpx.AsyncClient, path: str) -> None:
    response = await gateway.get(path)
    assert _problem(response, 400)["code"] == "gateway.bad_path"


@pytest.mark.parametrize(
    "path",
    [
        "/sdmx/..%2Fv1%2Frevision",
        "/sdmx/2.1/..%2F..%2Fv1%2Frevision",
        "/sdmx/2.1/%2E/dataflow",
        "/sdmx/2.1//dataflow",
    ],
)
async def test_sdmx_paths_of_no_resource_are_not_forwarded(
    gateway: httpx.AsyncClient, path: str
) -> None:
    """The SDMX routes are one per resource: a path that names none is the gateway's 404."""
    response = await gateway.get(path)
    assert _problem(response, 404)["code"] == "gateway.not_found"


async def test_an_empty_indicator_to_compare_is_a_422(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/compare?indicator=&areas=38")
    body = _problem(response, 422)
    assert body["code"] == "gateway.invalid"
    assert "query.indicator" in str(body["errors"])


async def test_an_audit_cursor_past_bigint_is_a_422(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get(f"/v1/audit?after_id={2**63}")
    assert _problem(response, 422)["code"] == "gateway.invalid"
    largest = await gateway.get(f"/v1/audit?after_id={2**63 - 1}")
    assert largest.status_code == 200, largest.text
    assert largest.json()["data"] == []
