"""Shared pieces of the gateway tests: a live indicators service, clients and tokens, and
gateway processes of their own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from chiso_gateway import audit
from chiso_gateway.auth import clients
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.support import SHARED, free_port, service_headers

SECRET = "test-signing-key-0123456789abcdef0123456789"
REDIS_URL = "redis://127.0.0.1:6379/0"
GOLD = SHARED / "eval" / "dev"


def gateway_settings(
    tmp_path: Path, gateway_db: str, indicators_url: str, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": gateway_db,
        "indicators_url": indicators_url,
        "ingest_url": f"http://127.0.0.1:{free_port()}",
        "jwt_secret": SECRET,
        "revision_check_seconds": 0,
        "redis_prefix": f"chiso:test:{uuid.uuid4().hex}:",
        **extra,
    }
    return Settings(**values)


async def new_client(
    settings: Settings,
    scopes: list[str],
    *,
    tier: str = "standard",
    org: str = "stttt-test",
    name: str = "test",
    area: str = "",
) -> clients.NewClient:
    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            created = await clients.create(session, name, scopes, org=org, tier=tier, area=area)
            await session.commit()
    finally:
        await engine.dispose()
    return created


async def client_headers(
    gateway: httpx.AsyncClient, settings: Settings, *scopes: str, area: str = "", name: str = ""
) -> tuple[str, dict[str, str]]:
    """A new client of the given scopes (and agency area), and its bearer headers."""
    created = await new_client(settings, list(scopes), area=area, name=name or "test")
    return created.client_id, await bearer(gateway, created)


async def bearer(gateway: httpx.AsyncClient, created: clients.NewClient) -> dict[str, str]:
    response = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client_id, created.client_secret),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def gold_facts() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(GOLD.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def post_gold(indicators_url: str) -> dict[str, Any]:
    response = httpx.post(
        f"{indicators_url}/v1/facts",
        json={"facts": gold_facts()},
        headers=service_headers("indicators"),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def post_facts(indicators_url: str, *facts: dict[str, Any], published: str) -> None:
    name = facts[0]["doc"]
    batch = {"documents": [{"name": name, "published": published}], "facts": list(facts)}
    response = httpx.post(
        f"{indicators_url}/v1/facts", json=batch, headers=service_headers("indicators"), timeout=30
    )
    assert response.status_code == 200, response.text


def start_gateway(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`chiso serve gateway` in its own process group (stopped by `stop_process`)."""
    command = [sys.executable, "-m", "chiso", "serve", "gateway", "--host", "127.0.0.1"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*command, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "the gateway exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.1)


def audit_entry(number: int) -> audit.AuditEntry:
    """An audit entry of request `r{number}` (a read by client ch_x)."""
    return audit.AuditEntry(
        ts=datetime.now(UTC),
        request_id=f"r{number}",
        client_id="ch_x",
        org="",
        user_id="",
        purpose="",
        token_id="",
        method="GET",
        route="/v1/indicators",
        status=200,
        latency_ms=1.23456,
        request_hash="0" * 64,
        response_hash="1" * 64,
    )
