"""Test support: databases (SQLite or a fresh PostgreSQL database), in-process apps, ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from starlette.types import Receive, Scope, Send

from chiso_shared.service_auth import READ, WRITE, ServiceAuth, ServiceTokens

POSTGRES_ENV = "CHISO_TEST_POSTGRES_URL"
# The service token secret every in-process service of a test shares (tests/conftest.py sets
# it for all three services); `service_headers` mints tokens with it.
SERVICE_SECRET = "test-service-token-secret-0123456789abcdef"
SERVICES = ("gateway", "ingest", "indicators")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def postgres_url() -> str | None:
    """The PostgreSQL server the tests use (an async SQLAlchemy URL), or None for SQLite."""
    return os.environ.get(POSTGRES_ENV) or None


def _in_thread(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion whether or not the caller is inside an event loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(tmp_path: Path, name: str) -> Iterator[str]:
    """The async URL of an empty database: a new SQLite file or a new PostgreSQL database."""
    server = postgres_url()
    if server is None:
        yield f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        return
    database = f"chiso_test_{uuid.uuid4().hex[:12]}_{name}"
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    _in_thread(_admin(dsn, f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(server).set(database=database).render_as_string(hide_password=False)
    finally:
        _in_thread(_admin(dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def service_headers(
    audience: str, scopes: tuple[str, ...] = (READ, WRITE), *, secret: str = SERVICE_SECRET
) -> dict[str, str]:
    """The Authorization header of a service token for `audience`, as another service sends."""
    return ServiceTokens(secret, "tests").headers(audience, scopes)


@asynccontextmanager
async def running(app: FastAPI, *, service_token: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and call it in-process, with lifespan state as a server passes it.

    The client sends a service token for the app (read and write) as the other services do,
    unless `service_token` is false.
    """
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            auth = (state or {}).get("service_auth")
            if service_token and isinstance(auth, ServiceAuth):
                client.headers.update(service_headers(auth.audience, secret=auth.secret))
            yield client


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    import time

    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def fact(**overrides: Any) -> dict[str, Any]:
    """A valid GUIDELINE fact (Nghệ An subscribers, 2023) with any field replaced."""
    base: dict[str, Any] = {
        "doc": "nghe-an-2023.txt",
        "start": 100,
        "end": 109,
        "text": "3.100.000",
        "value": 3100000,
        "unit": "count",
        "role": "level",
        "basis": None,
        "period": "2023",
        "status": "actual",
        "indicator": "telecom.subscribers.total",
        "scope": "VN-40",
        "label": "Tổng số thuê bao điện thoại",
    }
    return {**base, **overrides}


def wait_until_healthy(
    port: int, process: subprocess.Popen[bytes], log: Path, what: str, seconds: float
) -> None:
    """Wait for a `chiso serve` process to answer /healthz; fail with its log if it exits."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.1)
