"""Indicators at scale on PostgreSQL: `uv run python bench/bench_indicators.py [--facts N]`.

Creates a fresh database on the server named by CHISO_BENCH_POSTGRES_URL (default
postgresql+asyncpg://root@127.0.0.1:5432/postgres), starts the indicators service in its own
process, imports N facts (default 1,000,000: monthly series of catalogue indicators for the 63
provinces) through POST /v1/facts in batches, and prints facts/s. Then it times one series read
(GET /v1/observations, one indicator x one province, a page of up to 1,000 observations with
their provenance) against the same two SQL statements run directly with asyncpg, interleaved
(ABAB) in the same run, and prints the p50s and their ratio. Goals: >= 20,000 facts/s; API <= 3x.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from chiso_shared.catalogue import areas, indicators

SERVER = os.environ.get(
    "CHISO_BENCH_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/postgres"
)
BATCH = 20_000
ROUNDS = 30

SERIES_SQL = """
SELECT o.id, o.series_id, o.period, o.value, o.of, o.max, o.status, o.published,
       o.recorded_at, o.is_current, s.indicator_code, s.area_code, s.frequency, s.measure,
       s.transformation, s.unit
FROM observations o JOIN series s ON s.id = o.series_id
WHERE s.indicator_code = $1 AND s.area_code = $2 AND o.is_current
ORDER BY s.indicator_code, s.area_code, s.id, o.period, o.id
LIMIT 1001
"""
SOURCES_SQL = """
SELECT p.*, d.* FROM provenance p JOIN documents d ON d.id = p.document_id
WHERE p.observation_id = ANY($1::int[])
"""


def _dsn(database: str | None = None) -> str:
    url = make_url(SERVER).set(drivername="postgresql")
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _facts(total: int) -> list[dict[str, Any]]:
    provinces = sorted({area.code for area in areas() if area.level == "province"})
    catalogue = [item for item in indicators() if item.unit in ("count", "VND", "percent")]
    per_series = max(1, -(-total // (len(provinces) * len(catalogue))))
    facts: list[dict[str, Any]] = []
    for month in range(per_series):
        period = f"{1900 + month // 12}-{month % 12 + 1:02d}"
        for item in catalogue:
            for area in provinces:
                if len(facts) == total:
                    return facts
                facts.append(
                    {
                        "doc": f"bench-{period[:4]}.txt",
                        "start": len(facts) % 1_000_000,
                        "end": len(facts) % 1_000_000 + 5,
                        "text": "12345",
                        "value": 1000 + len(facts) % 9973,
                        "unit": item.unit,
                        "period": period,
                        "status": "actual",
                        "indicator": item.code,
                        "scope": area,
                    }
                )
    return facts


def _import(base: str, facts: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=600) as client:
        for offset in range(0, len(facts), BATCH):
            batch = {"facts": facts[offset : offset + BATCH]}
            response = client.post(
                "/v1/facts", json=batch, headers={"Idempotency-Key": f"bench-{offset}"}
            )
            response.raise_for_status()
    return time.perf_counter() - started


async def _compare(base: str, database: str, indicator: str, area: str) -> tuple[float, float, int]:
    connection = await asyncpg.connect(_dsn(database))
    # Fresh statistics, as autovacuum would have after a bulk load; without them the planner
    # scans provenance sequentially (for the API and the direct SQL alike).
    await connection.execute("ANALYZE")
    api: list[float] = []
    raw: list[float] = []
    count = 0
    params = {"indicator": indicator, "area": area, "limit": 1000}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for round_ in range(ROUNDS + 3):
                tick = time.perf_counter()
                response = await client.get("/v1/observations", params=params)
                response.raise_for_status()
                elapsed_api = time.perf_counter() - tick
                tick = time.perf_counter()
                rows = await connection.fetch(SERIES_SQL, indicator, area)
                await connection.fetch(SOURCES_SQL, [row["id"] for row in rows[:1000]])
                elapsed_raw = time.perf_counter() - tick
                count = len(response.json()["items"])
                if round_ >= 3:  # warm-up rounds are not counted
                    api.append(elapsed_api)
                    raw.append(elapsed_raw)
    finally:
        await connection.close()
    return statistics.median(api), statistics.median(raw), count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=1_000_000)
    args = parser.parse_args()
    database = f"chiso_bench_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"skipped: PostgreSQL at {SERVER} is not available ({exc})")
        return 0
    port = _free_port()
    env = {
        **os.environ,
        "CHISO_INDICATORS_DATABASE_URL": make_url(SERVER)
        .set(database=database)
        .render_as_string(hide_password=False),
        "CHISO_INDICATORS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "chiso_indicators.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        facts = _facts(args.facts)
        seconds = _import(base, facts)
        print(
            f"imported {len(facts):,} facts in {seconds:,.1f} s: "
            f"{len(facts) / seconds:,.0f} facts/s"
            f" (goal 20,000), batches of {BATCH:,}"
        )
        indicator, area = facts[0]["indicator"], facts[0]["scope"]
        api, raw, count = asyncio.run(_compare(base, database, indicator, area))
        print(
            f"series read ({count} observations with provenance), p50 of {ROUNDS}: "
            f"API {api * 1000:.1f} ms, direct SQL {raw * 1000:.1f} ms, ratio {api / raw:.2f}x"
            " (goal <= 3x)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    return 0


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_dsn())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the indicators service did not start")


if __name__ == "__main__":
    sys.exit(main())
