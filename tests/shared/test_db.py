"""The shared engine: a connection the server ended is replaced at checkout (a check without a
round trip; its speed is in bench/bench_indicators.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chiso_shared.db import create_engine
from tests.support import fresh_database, postgres_url

pytestmark = pytest.mark.asyncio


async def test_a_connection_the_server_ended_is_replaced(tmp_path: Path) -> None:
    if postgres_url() is None:
        pytest.skip("server-side termination needs PostgreSQL")
    with fresh_database(tmp_path, "pool") as url:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                before = await connection.scalar(text("SELECT pg_backend_pid()"))
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None
            dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
            admin = await asyncpg.connect(dsn)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
            finally:
                await admin.close()
            for _ in range(200):  # until the event loop has read the server's goodbye
                if driver.is_closed():
                    break
                await asyncio.sleep(0.01)
            async with engine.connect() as connection:
                after = await connection.scalar(text("SELECT pg_backend_pid()"))
            assert after != before
        finally:
            await engine.dispose()
