"""The gateway signs its calls to indicators with the deployment's service token secret; a
refusal is the deployment's fault, answered 502 (security review item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso_gateway.main import create_app
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import running

pytestmark = pytest.mark.asyncio


async def test_reads_carry_a_service_token(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    # Upstream.request adds the token whatever the client (Settings.http_client) is.
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    async with running(create_app(settings)) as gateway:
        gateway.headers.update(
            await bearer(gateway, await new_client(settings, ["indicators:read"]))
        )
        for path in ("/v1/indicators", "/sdmx/2.1/codelist/CHISO/CL_AREA"):
            response = await gateway.get(path)
            assert response.status_code == 200, response.text


async def test_a_refused_service_token_is_a_bad_gateway(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        service_token_secret="not-the-deployment-secret-0123456789abcdef",
    )
    async with running(create_app(settings)) as gateway:
        gateway.headers.update(
            await bearer(gateway, await new_client(settings, ["indicators:read"]))
        )
        response = await gateway.get("/v1/indicators")
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "gateway.upstream_refused"
    assert response.headers["X-Gateway-Error"] == "indicators:401"
