"""/readyz: 503 only when the service's own database does not answer; upstreams and the
gateway's Redis are reported in `reported`, never required (issue 20)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from tests.gateway.support import REDIS_URL, gateway_settings
from tests.support import _admin, _in_thread, free_port, fresh_database, postgres_url, running

pytestmark = pytest.mark.asyncio


def nowhere() -> str:
    """An upstream's URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def unreachable_database(tmp_path: Path) -> str:
    """A URL of the database at hand that cannot be opened: a closed port (PostgreSQL) or a
    folder in place of the file (SQLite)."""
    server = postgres_url()
    if server is not None:
        url = make_url(server).set(port=free_port(), database="chiso_nowhere")
        return url.render_as_string(hide_password=False)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    return f"sqlite+aiosqlite:///{folder}"


def gateway_app(tmp_path: Path, database_url: str, **extra: Any) -> FastAPI:
    values: dict[str, Any] = {
        "ingest_url": nowhere(),
        "migrate_on_start": False,
        "audit_enabled": False,  # its writer would need the database at start-up
        **extra,
    }
    settings = gateway_settings(tmp_path, database_url, nowhere(), **values)
    return create_gateway(settings)


def ingest_app(tmp_path: Path, database_url: str, migrate_on_start: bool = False) -> FastAPI:
    settings = IngestSettings(
        data_dir=tmp_path,
        database_url=database_url,
        indicators_url=nowhere(),
        migrate_on_start=migrate_on_start,
        run_worker=False,
    )
    return create_ingest(settings)


def indicators_app(tmp_path: Path, database_url: str, migrate_on_start: bool = True) -> FastAPI:
    # it reads the database at start-up (the reference data), so it migrates it
    settings = IndicatorsSettings(
        data_dir=tmp_path, database_url=database_url, migrate_on_start=migrate_on_start
    )
    return create_indicators(settings)


APPS: dict[str, Callable[[Path, str], FastAPI]] = {
    "gateway": gateway_app,
    "ingest": ingest_app,
    "indicators": indicators_app,
}


# (indicators cannot start without its database, which it reads at start-up; its readiness
# is that of a database that goes away: the PostgreSQL test below)
@pytest.mark.parametrize("service", ["gateway", "ingest"])
async def test_not_ready_without_its_database(tmp_path: Path, service: str) -> None:
    app = APPS[service](tmp_path, unreachable_database(tmp_path))
    async with running(app) as http:
        ready = await http.get("/readyz")
        alive = await http.get("/healthz")
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["status"] == "unavailable"
    assert list(body["checks"]) == ["database"]
    assert body["checks"]["database"].startswith("error: ")
    assert alive.status_code == 200  # alive all the same: a restart would not help


@pytest.mark.parametrize("service", ["gateway", "ingest"])
async def test_ready_with_its_database_while_upstreams_are_down(
    tmp_path: Path, service: str, request: pytest.FixtureRequest
) -> None:
    database_url = request.getfixturevalue(f"{service}_db")
    app = APPS[service](tmp_path, database_url)
    async with running(app) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok"}
    expected = {"gateway": {"ingest", "indicators"}, "ingest": {"indicators"}}[service]
    assert set(body["reported"]) == expected
    assert all(value.startswith("error: ") for value in body["reported"].values())


@pytest.mark.parametrize("fail_open", [True, False])
async def test_the_gateways_redis_is_reported_with_what_its_outage_costs(
    tmp_path: Path, gateway_db: str, fail_open: bool
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = gateway_app(tmp_path, gateway_db, redis_url=down, quota_fail_open=fail_open)
    async with running(app) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    redis = ready.json()["reported"]["redis"]
    assert redis.startswith("error: ")
    if fail_open:
        assert "API requests not counted" in redis
    else:
        assert "API requests refused (QUOTA_FAIL_OPEN=false)" in redis
    assert "token requests refused (TOKEN_LIMIT_FAIL_OPEN=false)" in redis


async def test_a_live_redis_is_reported_ok(tmp_path: Path, gateway_db: str) -> None:
    async with running(gateway_app(tmp_path, gateway_db, redis_url=REDIS_URL)) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["reported"]["redis"] == "ok"


@pytest.mark.parametrize("service", list(APPS))
async def test_not_ready_once_its_database_is_dropped(tmp_path: Path, service: str) -> None:
    server = postgres_url()
    if server is None:
        pytest.skip("needs PostgreSQL (CHISO_TEST_POSTGRES_URL)")
    with fresh_database(tmp_path, service) as url:
        async with running(APPS[service](tmp_path, url)) as http:
            assert (await http.get("/readyz")).status_code == 200
            dsn = make_url(server).set(drivername="postgresql")
            drop = f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)'
            _in_thread(_admin(dsn.render_as_string(hide_password=False), drop))
            ready = await http.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["database"].startswith("error: ")
