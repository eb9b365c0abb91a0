"""Quotas per client tier: 429 with Retry-After and RateLimit-*, in memory and across replicas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_gateway import audit
from chiso_gateway.auth import clients
from chiso_gateway.db import migrate_async
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import (
    REDIS_URL,
    SECRET,
    bearer,
    gateway_settings,
    new_client,
    start_gateway,
    stop_process,
    wait_healthy,
)
from tests.support import free_port, running, serving

pytestmark = pytest.mark.asyncio
TIERS = {"tiny": 3, "standard": 600, "unlimited": 0}


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    # An hour-long window, so a slow run cannot straddle two windows and reset the count.
    return gateway_settings(
        tmp_path, gateway_db, indicators_url, quota_tiers=TIERS, quota_window_seconds=3600
    )


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def test_quota_spent_gives_429_with_retry_after(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await bearer(gateway, await new_client(settings, ["indicators:read"], tier="tiny"))
    answers = [await gateway.get("/v1/indicators", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "gateway.quota_exceeded"

    # Another client of the same tier has its own count.
    other = await bearer(gateway, await new_client(settings, ["indicators:read"], tier="tiny"))
    assert (await gateway.get("/v1/indicators", headers=other)).status_code == 200


async def test_unlimited_tier_has_no_quota_headers(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await bearer(
        gateway, await new_client(settings, ["indicators:read"], tier="unlimited")
    )
    for _ in range(5):
        response = await gateway.get("/v1/indicators", headers=headers)
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


async def test_unknown_tier_is_refused_at_creation(settings: Settings) -> None:
    with pytest.raises(clients.ClientError, match="unknown tier"):
        await new_client_with_tiers(settings, "platinum")


async def new_client_with_tiers(settings: Settings, tier: str) -> None:
    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            await clients.create(
                session, "x", ["indicators:read"], tier=tier, tiers=settings.quota_tiers
            )
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_quota_holds_across_two_gateway_processes_on_redis(
    tmp_path: Path, settings: Settings, indicators_url: str
) -> None:
    url = settings.resolved_database_url()
    await migrate_async(url)
    created = await new_client(settings, ["indicators:read"], tier="tiny")
    env = {
        "CHISO_GATEWAY_DATA_DIR": str(tmp_path),
        "CHISO_GATEWAY_DATABASE_URL": url,
        "CHISO_GATEWAY_INDICATORS_URL": indicators_url,
        "CHISO_GATEWAY_JWT_SECRET": SECRET,
        "CHISO_GATEWAY_REDIS_URL": REDIS_URL,
        "CHISO_GATEWAY_REDIS_PREFIX": settings.redis_prefix,
        "CHISO_GATEWAY_QUOTA_TIERS": json.dumps(TIERS),
        "CHISO_GATEWAY_QUOTA_WINDOW_SECONDS": "3600",
        "CHISO_GATEWAY_LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    processes = [start_gateway(port, env, tmp_path / f"gateway-{port}.log") for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(urls, processes, strict=True):
            wait_healthy(base, process)
        async with httpx.AsyncClient(timeout=10) as http:
            token = await http.post(
                f"{urls[0]}/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(created.client_id, created.client_secret),
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            answers = [
                await http.get(f"{urls[i % 2]}/v1/indicators", headers=headers) for i in range(5)
            ]
    finally:
        for process in processes:
            stop_process(process)
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    # Both processes appended to one audit chain: the token call and the five reads.
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await audit.verify(session)
    finally:
        await engine.dispose()
    assert result.ok and result.rows == 6


async def test_a_new_window_starts_a_new_count() -> None:
    from chiso_gateway.quota import MemoryCounter, Quotas

    quotas = Quotas(MemoryCounter(), {"tiny": 2}, window_seconds=60)
    first = [await quotas.check("c", "tiny", now=120.0 + i) for i in range(3)]
    assert [state.allowed for state in first if state] == [True, True, False]
    assert first[2] is not None and first[2].reset == 58
    later = await quotas.check("c", "tiny", now=180.0)
    assert later is not None and later.allowed and later.remaining == 1
    # A tier no longer configured gets the strictest configured limit, not "unlimited".
    assert quotas.limit_for("retired") == 2
