"""Quotas per client tier: 429 with Retry-After and RateLimit-*, in memory and across replicas."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from chiso_gateway import audit
from chiso_gateway.auth import clients
from chiso_gateway.db import migrate_async
from chiso_gateway.main import create_app
from chiso_gateway.quota import Counter, MemoryCounter, Quotas, QuotaState, RedisCounter
from chiso_gateway.settings import Settings
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
from tests.support import free_port, running

pytestmark = pytest.mark.asyncio
TIERS = {"tiny": 3, "standard": 600, "unlimited": 0}


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
    # Three spent in a 3600 s sliding window: one more fits once their weight is down to 2,
    # a third of the way into the next window, so 1200 s to 4800 s from now.
    assert 1200 <= int(refused.headers["Retry-After"]) <= 4800
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


@pytest_asyncio.fixture(params=["memory", "redis"])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[Counter]:
    if request.param == "memory":
        yield MemoryCounter()
        return
    redis = Redis.from_url(REDIS_URL)
    prefix = f"chiso-test-{uuid.uuid4().hex}:"
    try:
        yield RedisCounter(redis, prefix)
    finally:
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_a_fixed_window_lets_twice_the_limit_through_at_its_edge(counter: Counter) -> None:
    quotas = Quotas(counter, {"tiny": 10}, window_seconds=60, sliding=False)
    before = [await quotas.check("c", "tiny", now=119.0) for _ in range(11)]
    assert [s.allowed for s in before if s] == [True] * 10 + [False]
    assert before[-1] is not None and before[-1].reset == 1
    after = [await quotas.check("c", "tiny", now=120.5) for _ in range(10)]
    assert all(s is not None and s.allowed for s in after)


async def test_a_sliding_window_holds_at_the_edge_and_lets_back_in_on_time(
    counter: Counter,
) -> None:
    quotas = Quotas(counter, {"tiny": 10}, window_seconds=60)
    burst = [await quotas.check("c", "tiny", now=119.0) for _ in range(10)]
    assert [s.remaining for s in burst if s] == list(range(9, -1, -1))
    # Half a second into the next window the burst still weighs 59.5/60 of itself.
    refused = await quotas.check("c", "tiny", now=120.5)
    assert refused is not None and not refused.allowed and refused.remaining == 0
    # Room for one once the burst weighs 9: 60 * (1 - 9/10) = 6 s into the window.
    assert refused.reset == 6
    # Calls made while refused are not counted, so the client is let in when it was told.
    for _ in range(5):
        assert not (await _check(quotas, 125.5)).allowed
    allowed = await _check(quotas, 126.0)
    assert allowed.allowed and allowed.remaining == 0
    assert not (await _check(quotas, 126.5)).allowed
    # At the next edge the one request let in weighs fully; a window later, nothing does.
    assert (await _check(quotas, 180.0)).remaining == 8
    assert (await _check(quotas, 300.0)).remaining == 9


async def test_a_sliding_window_refused_with_its_own_window_full(counter: Counter) -> None:
    quotas = Quotas(counter, {"tiny": 4}, window_seconds=60)
    for _ in range(4):
        assert (await _check(quotas, 90.0)).allowed
    refused = await _check(quotas, 90.0)
    # Until 120 the window is full; after it, 4 weighs 3 at 60 * (1 - 3/4) = 15 s: 45 s.
    assert not refused.allowed and refused.reset == 45
    assert not (await _check(quotas, 134.0)).allowed
    assert (await _check(quotas, 135.0)).allowed


async def test_an_unconfigured_tier_gets_the_strictest_limit() -> None:
    quotas = Quotas(MemoryCounter(), {"tiny": 2, "big": 50, "unlimited": 0})
    assert quotas.limit_for("retired") == 2


async def _check(quotas: Quotas, now: float) -> QuotaState:
    state = await quotas.check("c", "tiny", now=now)
    assert state is not None
    return state
