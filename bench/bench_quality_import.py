"""What the data-quality checks cost an import: `uv run python bench/bench_quality_import.py`.

Imports the same N facts (default 100,000) through POST /v1/facts into a fresh PostgreSQL
database twice per round, once with the checks on and once with them off
(CHISO_INDICATORS_QUALITY_CHECKS), each into its own indicators process, and prints both
times and their ratio, round by round (the order alternates, so a machine that warms up or
slows down does not favour one side). Goal: the checks add under 20% (ratio < 1.20).

The facts look like reports: monthly levels of the catalogue's count, money and share
indicators for the 63 provinces (totals left out, as their parts are drawn independently),
each with the change on the month before that its report states; one change in a hundred is
misstated, so the checks have flags to raise as well as values to clear.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import uuid
from typing import Any

import httpx
from bench_indicators import SECRET, SERVER, _admin, _free_port, _import, _service_token, _wait
from sqlalchemy.engine import make_url

from chiso_indicators.quality import load_book
from chiso_shared.catalogue import areas, indicators

UNITS = ("count", "VND", "percent")


def facts(total: int, seed: int = 7) -> list[dict[str, Any]]:
    """Level and stated change pairs, series by series, month by month."""
    rng = random.Random(seed)
    # facts name areas in the extraction contract's form (`VN-38`)
    provinces = sorted({area.scope for area in areas() if area.level == "province"})
    # a total and its parts drawn independently would contradict each other every month
    totals = {sums["total"] for sums in load_book().rules["components_vs_total"].params["sums"]}
    catalogue = [item for item in indicators() if item.unit in UNITS and item.code not in totals]
    months = max(2, -(-total // (2 * len(provinces) * len(catalogue))))
    found: list[dict[str, Any]] = []
    for item in catalogue:
        for area in provinces:
            level = rng.uniform(20, 90) if item.unit == "percent" else rng.uniform(1e4, 1e7)
            previous: float | None = None
            for month in range(months):
                year, index = 2010 + month // 12, month % 12 + 1
                period = f"{year}-{index:02d}"
                doc = f"bench-{area}-{year}.txt"
                start = month * 40
                found.append(_fact(doc, start, item.code, area, period, item.unit, round(level)))
                if previous is not None:
                    change = round(100 * (round(level) / round(previous) - 1), 2)
                    if rng.random() < 0.01:
                        change += 5  # a misstated change: the checks should flag it
                    found.append(_change(doc, start + 20, item.code, area, period, change))
                if len(found) >= total:
                    return found[:total]
                previous = level
                level *= 1 + rng.uniform(-0.002, 0.01)
                if item.unit == "percent":
                    level = min(level, 99.0)
    return found


def _fact(
    doc: str, start: int, code: str, area: str, period: str, unit: str, value: float
) -> dict[str, Any]:
    return {
        "doc": doc,
        "start": start,
        "end": start + 9,
        "text": str(value),
        "value": value,
        "unit": unit,
        "period": period,
        "status": "actual",
        "indicator": code,
        "scope": area,
    }


def _change(
    doc: str, start: int, code: str, area: str, period: str, change: float
) -> dict[str, Any]:
    return _fact(doc, start, code, area, period, "percent", change) | {
        "role": "change",
        "basis": "previous_period",
    }


def _run(batch: list[dict[str, Any]], checks: bool) -> tuple[float, int]:
    """Seconds to import the facts into a fresh database, and the flags left open."""
    database = f"chiso_bench_q_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    env = {
        **os.environ,
        "CHISO_INDICATORS_DATABASE_URL": make_url(SERVER)
        .set(database=database)
        .render_as_string(hide_password=False),
        "CHISO_INDICATORS_LOG_LEVEL": "WARNING",
        "CHISO_INDICATORS_SERVICE_TOKEN_SECRET": SECRET,
        "CHISO_INDICATORS_QUALITY_CHECKS": "true" if checks else "false",
    }
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "chiso_indicators.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        seconds = _import(base, batch, 1)
        answer = httpx.get(
            base + "/v1/quality", params={"limit": 1}, headers=_service_token(), timeout=60
        )
        answer.raise_for_status()
        return seconds, int(answer.json()["count"])
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--order",
        choices=("series", "month"),
        default="series",
        help="series: each series whole in one batch (new series: nothing stored to read "
        "back); month: month by month, so every batch after the first extends series "
        "already stored and the checks read their earlier months",
    )
    args = parser.parse_args()
    try:
        asyncio.run(_admin("SELECT 1"))
    except OSError as exc:
        print(f"skipped: PostgreSQL at {SERVER} is not available ({exc})")
        return 0
    batch = facts(args.facts)
    if args.order == "month":
        batch.sort(key=lambda fact: (fact["period"], fact["indicator"], fact["scope"]))
    ratios: list[float] = []
    for round_ in range(args.rounds):
        order = (False, True) if round_ % 2 == 0 else (True, False)
        timed = {checks: _run(batch, checks) for checks in order}
        (off, _), (on, flagged) = timed[False], timed[True]
        ratios.append(on / off)
        print(
            f"round {round_ + 1}: {len(batch):,} facts, checks off {off:.2f} s, on {on:.2f} s "
            f"({on / off:.2f}x), {flagged:,} flags open"
        )
    print(f"median ratio {statistics.median(ratios):.2f}x (goal < 1.20x), order {args.order}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
