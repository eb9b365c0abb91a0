"""Token endpoint limits count failures per address and per client id from one address,
read the caller's address from trusted proxies only, and fail open or closed as configured
when Redis is down; a Redis breaker spares requests the wait of a hung Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from starlette.types import Receive, Scope, Send

from chiso_gateway.auth import tokens
from chiso_gateway.auth.clients import NewClient
from chiso_gateway.main import create_app
from chiso_gateway.quota import RedisCounter
from chiso_gateway.redis_guard import Breaker, RedisUnavailable
from chiso_gateway.settings import Settings
from tests.gateway.support import REDIS_URL, SECRET, gateway_settings, new_client
from tests.support import free_port

pytestmark = pytest.mark.asyncio
Peer = Callable[[str], httpx.AsyncClient]


def settings_for(tmp_path: Path, gateway_db: str, **extra: Any) -> Settings:
    # No route here reads indicators; nothing listens at its URL.
    return gateway_settings(tmp_path, gateway_db, f"http://127.0.0.1:{free_port()}", **extra)


@asynccontextmanager
async def gateway(settings: Settings) -> AsyncIterator[Peer]:
    """The app in-process; `peer(address)` is a client whose connections come from `address`."""
    app = create_app(settings)
    opened: list[httpx.AsyncClient] = []
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        def peer(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=with_state, client=(address, 40000))
            opened.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
            return opened[-1]

        try:
            yield peer
        finally:
            for http in opened:
                await http.aclose()


async def ask(
    http: httpx.AsyncClient, client_id: str, secret: str, **headers: str
) -> httpx.Response:
    return await http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers=headers,
    )


async def statuses(http: httpx.AsyncClient, client_id: str, secret: str, times: int) -> list[int]:
    return [(await ask(http, client_id, secret)).status_code for _ in range(times)]


def minted(created: NewClient, scopes: list[str]) -> dict[str, str]:
    """A Bearer header for `created`, issued without the token endpoint."""
    token = tokens.issue(
        key=SECRET,
        issuer="chiso-gateway",
        client_id=created.client_id,
        org="stttt-test",
        scopes=scopes,
        ttl=600,
    )
    return {"Authorization": f"Bearer {token}"}


async def test_wrong_secrets_do_not_lock_out_the_real_client(
    tmp_path: Path, gateway_db: str
) -> None:
    settings = settings_for(tmp_path, gateway_db)  # default limits: 30 per client, 300 per address
    async with gateway(settings) as peer:
        real = await new_client(settings, ["indicators:read"])
        attacker, owner = peer("198.51.100.66"), peer("192.0.2.10")
        tries = await statuses(attacker, real.client_id, "guess", 32)
        assert tries == [401] * 30 + [429] * 2
        refused = await ask(attacker, real.client_id, real.client_secret)
        assert refused.status_code == 429  # not even checked: the guesser learns nothing
        assert refused.json()["code"] == "gateway.token_rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # The owner, elsewhere, is not locked out; and its successes are never counted.
        assert await statuses(owner, real.client_id, real.client_secret, 35) == [200] * 35


async def test_wrong_tries_from_one_address_are_limited_per_address(
    tmp_path: Path, gateway_db: str
) -> None:
    settings = settings_for(tmp_path, gateway_db, token_limit_per_address=5)
    async with gateway(settings) as peer:
        real = await new_client(settings, ["indicators:read"])
        sprayer = peer("198.51.100.7")
        tries = [(await ask(sprayer, f"ch_guess{n}", "x")).status_code for n in range(6)]
        assert tries == [401] * 5 + [429]
        assert (await ask(sprayer, real.client_id, real.client_secret)).status_code == 429
        assert (await ask(peer("198.51.100.8"), real.client_id, real.client_secret)).is_success


async def test_callers_behind_a_trusted_proxy_are_counted_apart(
    tmp_path: Path, gateway_db: str
) -> None:
    settings = settings_for(
        tmp_path, gateway_db, token_limit_per_address=3, forwarded_allow_ips="10.0.0.9"
    )
    async with gateway(settings) as peer:
        real = await new_client(settings, ["indicators:read"])
        proxy, untrusted = peer("10.0.0.9"), peer("10.0.0.7")

        async def through(http: httpx.AsyncClient, caller: str, secret: str) -> int:
            response = await ask(http, real.client_id, secret, **{"X-Forwarded-For": caller})
            return response.status_code

        assert [await through(proxy, "203.0.113.1", "guess") for _ in range(4)] == [401] * 3 + [429]
        # Another caller behind the same proxy has its own count.
        assert await through(proxy, "203.0.113.2", real.client_secret) == 200
        assert await through(proxy, "203.0.113.2", "guess") == 401
        # A peer that is not a trusted proxy is counted as itself, whatever it forwards.
        spoofed = [await through(untrusted, f"203.0.113.{n}", "guess") for n in range(10, 14)]
        assert spoofed == [401] * 3 + [429]


async def test_redis_down_token_limits_fail_closed_and_quotas_open_by_default(
    tmp_path: Path, gateway_db: str
) -> None:
    closed_port = f"redis://127.0.0.1:{free_port()}/0"
    settings = settings_for(tmp_path, gateway_db, redis_url=closed_port)
    assert not settings.token_limit_fail_open and settings.quota_fail_open
    async with gateway(settings) as peer:
        created = await new_client(settings, ["audit:read"])
        http = peer("192.0.2.10")
        refused = await ask(http, created.client_id, created.client_secret)
        assert refused.status_code == 503
        assert refused.json()["error"] == "temporarily_unavailable"
        assert int(refused.headers["Retry-After"]) >= 1
        # Live tokens keep working: the quota is not counted, so it does not refuse.
        read = await http.get("/v1/audit", headers=minted(created, ["audit:read"]))
        assert read.status_code == 200, read.text
        assert "RateLimit-Limit" not in read.headers


async def test_redis_down_with_the_other_settings_fails_the_other_way(
    tmp_path: Path, gateway_db: str
) -> None:
    settings = settings_for(
        tmp_path,
        gateway_db,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        token_limit_fail_open=True,
        quota_fail_open=False,
    )
    async with gateway(settings) as peer:
        created = await new_client(settings, ["audit:read"])
        http = peer("192.0.2.10")
        assert (await ask(http, created.client_id, created.client_secret)).status_code == 200
        assert (await ask(http, created.client_id, "guess")).status_code == 401
        refused = await http.get("/v1/audit", headers=minted(created, ["audit:read"]))
        assert refused.status_code == 503
        assert refused.json()["code"] == "gateway.quota_unavailable"
        assert int(refused.headers["Retry-After"]) >= 1


@pytest_asyncio.fixture
async def hung_redis() -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server that accepts connections and never answers; and its connection count."""
    connections: list[int] = []
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        held.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0", connections
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_after_a_hung_redis_fails_once_requests_skip_it(
    tmp_path: Path, gateway_db: str, hung_redis: tuple[str, list[int]]
) -> None:
    url, connections = hung_redis
    settings = settings_for(
        tmp_path,
        gateway_db,
        redis_url=url,
        redis_timeout_seconds=0.2,
        redis_cooldown_seconds=600,
    )
    async with gateway(settings) as peer:
        created = await new_client(settings, ["audit:read"])
        http = peer("192.0.2.10")
        headers = minted(created, ["audit:read"])
        answers = [await http.get("/v1/audit", headers=headers) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        # The first request met the hang (quota count); the breaker kept the others off Redis.
        assert len(connections) == 1
        refused = await ask(http, created.client_id, created.client_secret)
        assert refused.status_code == 503  # token limits fail closed, without a new attempt
        assert len(connections) == 1


async def test_the_breaker_probes_again_after_its_cooldown(
    hung_redis: tuple[str, list[int]],
) -> None:
    url, connections = hung_redis
    now = [1000.0]
    breaker = Breaker(cooldown=30, clock=lambda: now[0])
    hung = Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
    counter = RedisCounter(hung, "chiso:test:breaker:", breaker)
    try:
        with pytest.raises(RedisUnavailable):
            await counter.take("c", 1, 60, 10, 0.0)
        assert breaker.is_open and (breaker.attempts, len(connections)) == (1, 1)
        now[0] += 29
        with pytest.raises(RedisUnavailable) as skipped:
            await counter.take("c", 1, 60, 10, 0.0)
        assert skipped.value.retry_after == 1
        assert (breaker.attempts, len(connections)) == (1, 1)
        now[0] += 1  # the cooldown is over: one probe, which fails and opens it again
        with pytest.raises(RedisUnavailable):
            await counter.take("c", 1, 60, 10, 0.0)
        assert breaker.is_open and (breaker.attempts, len(connections)) == (2, 2)
    finally:
        await hung.aclose()
    # A probe that succeeds closes it.
    real = Redis.from_url(REDIS_URL)
    try:
        now[0] += 30
        tally = await RedisCounter(real, f"chiso:test:breaker:{id(now)}:", breaker).take(
            "c", 1, 60, 10, 0.0
        )
        assert tally.allowed and not breaker.is_open
    finally:
        await real.aclose()
