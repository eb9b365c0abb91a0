"""Indicators at scale on PostgreSQL: `uv run python bench/bench_indicators.py [--facts N]`.

Creates a fresh database on the server named by CHISO_BENCH_POSTGRES_URL (default
postgresql+asyncpg://root@127.0.0.1:5432/postgres), starts the indicators service in its own
process, imports N facts (default 1,000,000: monthly series of catalogue indicators for the 63
provinces) through POST /v1/facts in batches of 20,000 (`--clients K` requests in flight), and
prints facts/s and the data-quality flags the import raised; then it imports the same facts
again into another fresh database with the quality checks off (`--checks-only` skips that)
and prints what the checks cost, as a ratio measured in the same run. The values are
plausible (few flags, as on real reports); `--implausible` gives values most of which raise a
flag, the checks' worst case. Then it times one series read (GET /v1/observations, one
indicator x one province, a page of up to 1,000 observations with their provenance) through
the API, once with aiohttp and once with httpx as the client, against the same two SQL
statements run directly with asyncpg, interleaved round by round in the same run, and prints
the p50s and the ratios. Goals: >= 20,000 facts/s; API <= 3x the SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import asyncpg
import httpx
from sqlalchemy.engine import make_url

from chiso_indicators.quality.rules import load_book
from chiso_shared.catalogue import areas, code_of_scope, indicators
from chiso_shared.service_auth import READ, WRITE, ServiceTokens

SERVER = os.environ.get(
    "CHISO_BENCH_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/postgres"
)
BATCH = 20_000
# The service token secret of the bench's indicators process: its API answers only calls
# signed as another chiso service signs them (the token check is part of what is timed).
SECRET = secrets.token_urlsafe(32)
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


def _facts(total: int, implausible: bool = False) -> list[dict[str, Any]]:
    """Monthly facts for every catalogue indicator of a countable unit and every province.

    The values are plausible, as reports give them: each series grows a little every month
    from a level of its own, percentages stay between 0 and 100, and a total is the sum of
    the parts the rule book relates to it, so the quality checks raise about as few flags as
    on real data. `implausible` gives the values of earlier runs instead (1,000 to 10,972
    whatever the unit), on which most values raise a flag: the checks' worst case."""
    provinces = sorted({area.scope for area in areas() if area.level == "province"})
    catalogue = [item for item in indicators() if item.unit in ("count", "VND", "percent")]
    units = {item.code: item.unit for item in catalogue}
    sums = [
        (relation["total"], relation["components"])
        for rule in load_book().rules.values()
        for relation in rule.params.get("sums", ())
        if relation["total"] in units and all(code in units for code in relation["components"])
    ]
    per_series = max(1, -(-total // (len(provinces) * len(catalogue))))
    facts: list[dict[str, Any]] = []
    for month in range(per_series):
        period = f"{1900 + month // 12}-{month % 12 + 1:02d}"
        values = {
            (item.code, area): _value(item.code, item.unit, area, month)
            for item in catalogue
            for area in provinces
        }
        for total_code, components in sums:
            for area in provinces:
                values[total_code, area] = sum(values[code, area] for code in components)
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
                        "value": (
                            1000 + len(facts) % 9973 if implausible else values[item.code, area]
                        ),
                        "unit": item.unit,
                        "period": period,
                        "status": "actual",
                        "indicator": item.code,
                        "scope": area,
                    }
                )
    return facts


def _value(code: str, unit: str, area: str, month: int) -> float:
    """A series' own level, growing 0.5% a month, with a wobble of up to 1% (deterministic)."""
    seed = zlib.crc32(f"{code}|{area}".encode())
    wobble = 1 + ((seed + 7919 * month) % 201 - 100) / 10_000
    if unit == "percent":
        return round(min(100.0, (30 + seed % 60) * wobble + month * 0.05), 2)
    base = 1_000 + seed % 99_000 if unit == "count" else (seed % 900 + 100) * 1e9
    return float(round(base * 1.005**month * wobble))


def _service_token() -> dict[str, str]:
    return ServiceTokens(SECRET, "bench", ttl=3600).headers("indicators", [READ, WRITE])


def _import(base: str, facts: list[dict[str, Any]], clients: int) -> float:
    """Post every batch, `clients` requests in flight at a time; the bodies are encoded first
    so the timing is the service's, not the client's JSON encoder."""
    bodies = [
        (offset, json.dumps({"facts": facts[offset : offset + BATCH]}).encode())
        for offset in range(0, len(facts), BATCH)
    ]
    headers = {"Content-Type": "application/json", **_service_token()}

    def post(client: httpx.Client, offset: int, body: bytes) -> None:
        key = {"Idempotency-Key": f"bench-{offset}"}
        client.post("/v1/facts", content=body, headers=headers | key).raise_for_status()

    started = time.perf_counter()
    with (
        httpx.Client(
            base_url=base, timeout=600, limits=httpx.Limits(max_connections=clients)
        ) as client,
        ThreadPoolExecutor(clients) as pool,
    ):
        for future in [pool.submit(post, client, offset, body) for offset, body in bodies]:
            future.result()
    return time.perf_counter() - started


async def _compare(base: str, database: str, indicator: str, area: str) -> dict[str, float]:
    """p50 seconds of the same series read through the API (with aiohttp and with httpx as
    the client) and as the two SQL statements run directly, interleaved round by round."""
    connection = await asyncpg.connect(_dsn(database))
    # Fresh statistics, as autovacuum would have after a bulk load; without them the planner
    # scans provenance sequentially (for the API and the direct SQL alike).
    await connection.execute("ANALYZE")
    times: dict[str, list[float]] = {"aiohttp": [], "httpx": [], "sql": []}
    params = {"indicator": indicator, "area": area, "limit": "1000"}
    url = base + "/v1/observations"

    async def sql() -> list[asyncpg.Record]:
        rows = await connection.fetch(SERIES_SQL, indicator, area)
        await connection.fetch(SOURCES_SQL, [row["id"] for row in rows[:1000]])
        return rows

    try:
        async with (
            httpx.AsyncClient(timeout=60, headers=_service_token()) as httpx_client,
            aiohttp.ClientSession(headers=_service_token()) as aiohttp_client,
        ):
            # Each read ends when the whole body has arrived (time to last byte); the JSON is
            # parsed after the clock stops, to check that every reader got the same rows.
            async def via_httpx() -> bytes:
                response = await httpx_client.get(url, params=params)
                return response.raise_for_status().content

            async def via_aiohttp() -> bytes:
                async with aiohttp_client.get(url, params=params) as response:
                    response.raise_for_status()
                    return await response.read()

            readers: dict[str, Callable[[], Awaitable[Any]]] = {
                "aiohttp": via_aiohttp,
                "httpx": via_httpx,
                "sql": sql,
            }
            for round_ in range(ROUNDS + 3):
                results = {}
                for name, read in readers.items():
                    tick = time.perf_counter()
                    results[name] = await read()
                    if round_ >= 3:  # warm-up rounds are not counted
                        times[name].append(time.perf_counter() - tick)
                counts = {len(json.loads(results[name])["items"]) for name in ("aiohttp", "httpx")}
                counts.add(min(len(results["sql"]), 1000))
                assert len(counts) == 1, f"the readers disagree: {counts}"
    finally:
        await connection.close()
    result = {name: statistics.median(values) for name, values in times.items()}
    result["count"] = counts.pop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=1, help="requests in flight at once")
    parser.add_argument(
        "--implausible",
        action="store_true",
        help="values most of which raise a data-quality flag (the checks' worst case)",
    )
    parser.add_argument(
        "--checks-only",
        action="store_true",
        help="skip the second import with QUALITY_CHECKS=false",
    )
    args = parser.parse_args()
    facts = _facts(args.facts, implausible=args.implausible)
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"skipped: PostgreSQL at {SERVER} is not available ({exc})")
        return 0
    with_checks = _run(facts, args.clients, checks=True, read=True)
    print(
        f"imported {len(facts):,} facts in {with_checks['seconds']:,.1f} s:"
        f" {len(facts) / with_checks['seconds']:,.0f} facts/s (goal 20,000),"
        f" batches of {BATCH:,}, {args.clients} client(s), quality checks on:"
        f" {with_checks['flags']:,.0f} flags raised"
        + (" (implausible values)" if args.implausible else "")
    )
    if not args.checks_only:
        without = _run(facts, args.clients, checks=False, read=False)
        print(
            f"the same import with QUALITY_CHECKS=false: {without['seconds']:,.1f} s,"
            f" {len(facts) / without['seconds']:,.0f} facts/s;"
            f" the checks cost {with_checks['seconds'] / without['seconds']:.2f}x"
        )
    raw = with_checks["sql"]
    print(
        f"series read ({with_checks['count']:.0f} observations with provenance), p50 of"
        f" {ROUNDS}: direct SQL {raw * 1000:.1f} ms; API with aiohttp"
        f" {with_checks['aiohttp'] * 1000:.1f} ms ({with_checks['aiohttp'] / raw:.2f}x),"
        f" with httpx {with_checks['httpx'] * 1000:.1f} ms"
        f" ({with_checks['httpx'] / raw:.2f}x) (goal <= 3x)"
    )
    return 0


def _run(
    facts: list[dict[str, Any]], clients: int, *, checks: bool, read: bool
) -> dict[str, float]:
    """Import the facts into a fresh database through a fresh indicators process; the import
    seconds, the flags raised and (with `read`) the p50s of the series read."""
    database = f"chiso_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    port = _free_port()
    env = {
        **os.environ,
        "CHISO_INDICATORS_DATABASE_URL": make_url(SERVER)
        .set(database=database)
        .render_as_string(hide_password=False),
        "CHISO_INDICATORS_LOG_LEVEL": "WARNING",
        "CHISO_INDICATORS_SERVICE_TOKEN_SECRET": SECRET,
        "CHISO_INDICATORS_QUALITY_CHECKS": "true" if checks else "false",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "chiso_indicators.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        result: dict[str, float] = {"seconds": _import(base, facts, clients)}
        result["flags"] = asyncio.run(_count_flags(database))
        if read:
            indicator, area = facts[0]["indicator"], str(code_of_scope(facts[0]["scope"]))
            result |= asyncio.run(_compare(base, database, indicator, area))
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _count_flags(database: str) -> float:
    connection = await asyncpg.connect(_dsn(database))
    try:
        return float(await connection.fetchval("SELECT count(*) FROM quality_flags"))
    finally:
        await connection.close()


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
