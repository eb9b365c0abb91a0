"""CORS for web apps on other origins: on for the configured origins only, off by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso_gateway.main import create_app
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import running

pytestmark = pytest.mark.asyncio
APP_ORIGIN = "https://app.example.gov.vn"
OTHER_ORIGIN = "https://evil.example.com"


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }


async def test_a_configured_origin_may_call_with_a_token_and_read_the_paging_headers(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        cors_allow_origins=f" {APP_ORIGIN} , https://other-app.example.gov.vn",
    )
    async with running(create_app(settings)) as http:
        preflight = await http.options("/v1/indicators", headers=_preflight(APP_ORIGIN))
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert "GET" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["access-control-max-age"] == "600"

        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        answer = await http.get("/v1/indicators", headers={**headers, "Origin": APP_ORIGIN})
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == APP_ORIGIN
        exposed = {
            name.strip().lower()
            for name in answer.headers["access-control-expose-headers"].split(",")
        }
        assert {"link", "x-next-cursor", "x-request-id", "etag", "retry-after"} <= exposed
        # A refusal carries them too: the web app must read a 401 to ask for a token.
        refused = await http.get("/v1/indicators", headers={"Origin": APP_ORIGIN})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_a_web_app_that_traces_itself_may_send_its_trace_context(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, cors_allow_origins=APP_ORIGIN)
    asked = {**_preflight(APP_ORIGIN), "Access-Control-Request-Headers": "traceparent,tracestate"}
    async with running(create_app(settings)) as http:
        preflight = await http.options("/v1/indicators", headers=asked)
    assert preflight.status_code == 200, preflight.text
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "traceparent" in allowed and "tracestate" in allowed


async def test_another_origin_gets_no_cors_headers(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, cors_allow_origins=APP_ORIGIN)
    async with running(create_app(settings)) as http:
        preflight = await http.options("/v1/indicators", headers=_preflight(OTHER_ORIGIN))
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers
        answer = await http.get("/healthz", headers={"Origin": OTHER_ORIGIN})
        assert answer.status_code == 200
        assert "access-control-allow-origin" not in answer.headers


async def test_without_the_setting_no_origin_is_allowed(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    assert settings.cors_origins() == []
    async with running(create_app(settings)) as http:
        preflight = await http.options("/v1/indicators", headers=_preflight(APP_ORIGIN))
        answer = await http.get("/healthz", headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in answer.headers
