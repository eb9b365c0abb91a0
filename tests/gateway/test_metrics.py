"""The gateway's /metrics over real HTTP: requests by route template (the fast series read
included), cache hits and misses, quota rejections, token issues and refusals, upstream errors;
and the metrics path is outside authentication and quotas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import bearer, gateway_settings, new_client, post_facts
from tests.scrape import scrape_async
from tests.support import fact, serving

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series?area=40"
SERIES_ROUTE = "/v1/indicators/{code}/series"
TIERS = {"tiny": 2, "standard": 600, "unlimited": 0}


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        post_facts(url, fact(), published="2023-12-20")
        yield url


def settings_for(tmp_path: Path, gateway_db: str, indicators_url: str, **extra: Any) -> Settings:
    # An hour-long quota window, so a slow run cannot straddle two windows.
    return gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        quota_tiers=TIERS,
        quota_window_seconds=3600,
        **extra,
    )


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with serving(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client


@pytest.fixture(params=[True, False], ids=["fast reads", "routed reads"])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, gateway_db: str, indicators_url: str
) -> Settings:
    return settings_for(tmp_path, gateway_db, indicators_url, fast_reads=request.param)


async def test_requests_are_counted_by_route_template_and_reads_by_cache(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await bearer(gateway, await new_client(settings, ["indicators:read"]))
    first, second = [await gateway.get(SERIES, headers=headers) for _ in range(2)]
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert (await gateway.get("/no/such/path")).status_code == 404

    metrics = await scrape_async(gateway)  # no token: the metrics are not behind the API's auth
    assert metrics.types["chiso_http_requests"] == "counter"
    assert metrics.types["chiso_http_request_duration_seconds"] == "histogram"
    assert metrics.label_sets("chiso_http_requests_total") == {
        frozenset({"service", "method", "route", "status"})
    }
    assert metrics.label_sets("chiso_http_request_duration_seconds_bucket") == {
        frozenset({"service", "method", "route"})
    }
    series = {"service": "gateway", "method": "GET", "route": SERIES_ROUTE}
    assert metrics.value("chiso_http_requests_total", **series, status="200") == 2
    assert metrics.value("chiso_http_request_duration_seconds_count", **series) == 2
    assert metrics.value("chiso_http_request_duration_seconds_sum", **series) > 0
    token = {"method": "POST", "route": "/oauth2/token", "status": "200"}
    assert metrics.value("chiso_http_requests_total", **token) == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert metrics.value("chiso_http_requests_total", **unmatched) == 1
    # Templates only, never a path; a scrape is not counted as a request.
    routes = metrics.label_values("chiso_http_requests_total", "route")
    assert not any("telecom" in route or "no/such" in route for route in routes), routes
    assert "/metrics" not in routes

    assert metrics.value("chiso_gateway_cache_hits_total", cache="response") == 1
    assert metrics.value("chiso_gateway_cache_misses_total", cache="response") == 1
    assert metrics.value("chiso_build_info", service="gateway") == 1


async def test_a_spent_quota_counts_one_rejection_of_its_tier(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await bearer(gateway, await new_client(settings, ["indicators:read"], tier="tiny"))
    before = await scrape_async(gateway)
    assert before.value("chiso_gateway_quota_rejections_total", tier="tiny") == 0
    answers = [(await gateway.get("/v1/indicators", headers=headers)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]

    after = await scrape_async(gateway)
    assert after.value("chiso_gateway_quota_rejections_total", tier="tiny") == 1
    assert after.value("chiso_gateway_quota_rejections_total") == 1
    assert after.label_sets("chiso_gateway_quota_rejections_total") == {frozenset({"tier"})}
    refused = {"route": "/v1/indicators", "status": "429"}
    assert after.value("chiso_http_requests_total", **refused) == 1
    # Scraping is never metered: many scrapes later the client's quota is still spent and
    # the scrapes still answer.
    for _ in range(5):
        await scrape_async(gateway)


async def test_token_issues_and_refusals_by_reason(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    created = await new_client(settings, ["indicators:read"])
    wrong = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client_id, "not-the-secret"),
    )
    assert wrong.status_code == 401
    grant = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "password"},
        auth=(created.client_id, created.client_secret),
    )
    assert grant.status_code == 400
    await bearer(gateway, created)
    await bearer(gateway, created)

    metrics = await scrape_async(gateway)
    assert metrics.value("chiso_gateway_tokens_issued_total") == 2
    assert metrics.value("chiso_gateway_token_refusals_total", reason="invalid_client") == 1
    refusals = {"reason": "unsupported_grant_type"}
    assert metrics.value("chiso_gateway_token_refusals_total", **refusals) == 1
    assert metrics.value("chiso_gateway_token_refusals_total") == 2
    assert metrics.label_sets("chiso_gateway_token_refusals_total") == {frozenset({"reason"})}


async def test_upstream_errors_are_counted_by_upstream_and_kind(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    # gateway_settings points ingest at a free port nothing listens on.
    headers = await bearer(gateway, await new_client(settings, ["documents:write"]))
    failed = await gateway.get("/v1/documents/0123456789abcdef", headers=headers)
    assert failed.status_code == 502, failed.text
    assert failed.headers["X-Gateway-Error"] == "ingest:unreachable"

    metrics = await scrape_async(gateway)
    kinds = {"upstream": "ingest", "kind": "unreachable"}
    assert metrics.value("chiso_gateway_upstream_errors_total", **kinds) == 1
    assert metrics.value("chiso_gateway_upstream_errors_total", upstream="indicators") == 0
    assert metrics.label_sets("chiso_gateway_upstream_errors_total") == {
        frozenset({"upstream", "kind"})
    }
    route = {"route": "/v1/documents/{document_id}", "status": "502"}
    assert metrics.value("chiso_http_requests_total", **route) == 1


async def test_scrapes_leave_no_audit_row(gateway: httpx.AsyncClient, settings: Settings) -> None:
    auditor = await bearer(gateway, await new_client(settings, ["audit:admin"]))
    for _ in range(3):
        await scrape_async(gateway)
    assert (await gateway.get("/no/such/path")).status_code == 404  # audited, unmatched

    response = await gateway.get("/v1/audit?limit=1000", headers=auditor)
    assert response.status_code == 200, response.text
    unmatched = [row for row in response.json()["data"] if row["route"] == "(unmatched)"]
    assert len(unmatched) == 1, unmatched  # the 404 alone: /metrics is outside the audit


async def test_refused_bearer_tokens_are_counted_by_reason(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await gateway.get(SERIES)).status_code == 401  # the fast read, when on
    garbled = {"Authorization": "Bearer not-a-token"}
    assert (await gateway.get("/v1/indicators", headers=garbled)).status_code == 401
    reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
    assert (await gateway.get("/v1/documents", headers=reader)).status_code == 403

    metrics = await scrape_async(gateway)
    refusals = "chiso_gateway_auth_refusals_total"
    assert metrics.label_sets(refusals) == {frozenset({"reason"})}
    assert metrics.value(refusals, reason="token_missing") == 1
    assert metrics.value(refusals, reason="token_invalid") == 1
    assert metrics.value(refusals, reason="scope_missing") == 1
    assert metrics.value(refusals) == 3
    assert metrics.value("chiso_http_requests_total", route=SERIES_ROUTE, status="401") == 1
