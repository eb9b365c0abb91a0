"""The gateway hop: `uv run python bench/bench_gateway.py`.

Starts one indicators process with a 12-point series and three gateway processes in front of
it (aiohttp, the gateway's client, to indicators): without the response cache, with and
without the audit row, and with the cache (the default deployment). Each is measured on the
same series as the direct call to indicators. At concurrency 1 (p50, p99) each gateway takes
turns with the direct call request by request, so both meet the same moments of a shared
machine, and its ratio is to the direct calls it was paired with; at 16 (req/s) the variants
run in interleaved blocks. The goal is a gateway p50 at most 1.25x the direct call. Ratios are
taken within the same run.

Every gateway authenticates, counts the quota (a limit no run reaches) and, unless the variant
says otherwise, queues an audit row per request; the "no cache" variants run with the response
cache off, so each request crosses the hop to indicators. The "traced" variant exports its
spans by OTLP (every request sampled) to a sink process that accepts and drops them; the
others trace nothing, as by default.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from chiso_shared.service_auth import READ, WRITE, ServiceTokens

ROUNDS = 5
SECONDS = 1.5
PAIRED_SECONDS = 8.0  # per gateway variant
MIN_TURNS = 200
CONCURRENCY = 16
GOAL = 1.25
SECRET = "bench-signing-key-0123456789abcdef0123456789"
# The direct call is the indicators read the gateway makes for this series.
SERIES_DIRECT = (
    "/v1/indicators/telecom.subscribers.total/series?area=40"
    "&measure=actual&transformation=level&limit=1000"
)
SERIES_GATEWAY = "/v1/indicators/telecom.subscribers.total/series?area=40"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(service: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "chiso", "serve", service, "--host", "127.0.0.1"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*command, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# An OTLP/HTTP receiver that accepts every export and keeps nothing: what a collector costs
# the gateway (encoding, the export thread, the call) without a collector to install.
OTLP_SINK = """
import sys
from aiohttp import web

async def accept(request):
    await request.read()
    return web.Response(body=b"", content_type="application/x-protobuf")

app = web.Application(client_max_size=64 * 1024 * 1024)
app.router.add_post("/v1/traces", accept)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def start_sink(port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", OTLP_SINK, str(port)],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 120  # a shared 2-core machine can be slow to start three
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def facts() -> dict[str, object]:
    rows = [
        {
            "doc": f"nghe-an-{year}.txt",
            "start": 10,
            "end": 19,
            "text": f"{3_000_000 + year:,}".replace(",", "."),
            "value": 3_000_000 + year,
            "unit": "count",
            "role": "level",
            "basis": None,
            "period": str(year),
            "status": "actual",
            "indicator": "telecom.subscribers.total",
            "scope": "VN-40",
            "label": "Tổng số thuê bao",
        }
        for year in range(2012, 2024)
    ]
    documents = [{"name": row["doc"], "published": f"{row['period']}-12-31"} for row in rows]
    return {"documents": documents, "facts": rows}


async def measure(url: str, headers: dict[str, str], concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                tick = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - tick)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, len(latencies)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def paired_latencies(
    urls: dict[str, str], headers: dict[str, dict[str, str]]
) -> dict[str, list[float]]:
    """Concurrency 1, one request per variant in turn (the order rotating every turn), so that
    every variant meets the same moments of a shared machine: measured request by request
    rather than in separate blocks."""
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    names = list(urls)
    sessions = {name: aiohttp.ClientSession(headers=headers[name]) for name in names}
    try:
        turn = 0
        deadline = time.perf_counter() + PAIRED_SECONDS
        while time.perf_counter() < deadline or turn < MIN_TURNS:
            order = names[turn % len(names) :] + names[: turn % len(names)]
            for name in order:
                tick = time.perf_counter()
                async with sessions[name].get(urls[name]) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies[name].append(time.perf_counter() - tick)
            turn += 1
    finally:
        for session in sessions.values():
            await session.close()
    return latencies


async def run(urls: dict[str, str], tokens: dict[str, str]) -> None:
    headers = {name: {"Authorization": f"Bearer {tokens.get(name, '')}"} for name in urls}
    for name, url in urls.items():  # warm-up
        await measure(url, headers[name], 4)
    # Each gateway is paired with the direct call on its own. Taking turns among all the
    # variants at once leaves each gateway process idle for four requests out of five, and a
    # process woken after other processes ran is slower (caches, scheduler) than indicators,
    # which every turn keeps busy: that measures the box, not the hop.
    gateways = [name for name in urls if name != "direct"]
    latencies: dict[str, list[float]] = {}
    direct_by: dict[str, list[float]] = {}
    for name in gateways:
        pair = await paired_latencies({"direct": urls["direct"], name: urls[name]}, headers)
        latencies[name], direct_by[name] = pair[name], pair["direct"]
    latencies["direct"] = [t for name in gateways for t in direct_by[name]]
    rps: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(ROUNDS):
        for name, url in urls.items():
            _, count = await measure(url, headers[name], CONCURRENCY)
            rps[name].append(count / SECONDS)
    direct_rps = statistics.median(rps["direct"])
    columns = ("c=1 p50 ms", "p99 ms", "direct p50", "x direct", "c=16 req/s", "x direct")
    print(f"{'variant':28} " + " ".join(f"{column:>11}" for column in columns))
    for name in urls:
        median = quantile(latencies[name], 0.5) * 1000
        direct = quantile(direct_by.get(name, latencies["direct"]), 0.5) * 1000
        print(
            f"{name:28} {median:11.2f} {quantile(latencies[name], 0.99) * 1000:11.2f} "
            f"{direct:11.2f} {median / direct:11.2f} {statistics.median(rps[name]):11.0f} "
            f"{statistics.median(rps[name]) / direct_rps:11.2f}"
        )
    turns = min(len(values) for values in direct_by.values())
    print(
        f"goal: gateway p50 <= {GOAL}x direct (c=1: each gateway paired turn by turn with the "
        f"direct call, at least {turns} requests to each; c={CONCURRENCY}: median of "
        f"{ROUNDS} interleaved rounds of {SECONDS}s)"
    )


def main() -> int:
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="chiso-bench-") as scratch:
        data = Path(scratch)
        try:
            indicators_port = free_port()
            indicators = f"http://127.0.0.1:{indicators_port}"
            service_secret = secrets.token_urlsafe(32)  # signs the calls to indicators
            env = {
                "CHISO_INDICATORS_DATA_DIR": scratch,
                "CHISO_INDICATORS_LOG_LEVEL": "WARNING",
                "CHISO_INDICATORS_SERVICE_TOKEN_SECRET": service_secret,
            }
            processes.append(start("indicators", indicators_port, env, data / "indicators.log"))
            wait_healthy(indicators)
            # The direct calls sign theirs as the gateways do (and are checked the same way).
            service = ServiceTokens(service_secret, "bench", ttl=3600)
            direct = service.headers("indicators", [READ, WRITE])
            httpx.post(
                indicators + "/v1/facts", json=facts(), headers=direct, timeout=30
            ).raise_for_status()

            from chiso.admin import create_client, gateway_settings

            gateways: dict[str, str] = {}
            tokens = {"direct": service.token("indicators", [READ, WRITE])}
            sink_port = free_port()
            processes.append(start_sink(sink_port, data / "otlp-sink.log"))
            traced = {"CHISO_GATEWAY_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}"}
            variants: dict[str, tuple[str, str, dict[str, str]]] = {  # cache TTL, audit, more
                "gateway, no cache": ("0", "true", {}),
                "  same, no audit row": ("0", "false", {}),
                "  same, traced": ("0", "true", traced),
                "gateway, cache": ("300", "true", {}),
            }
            for index, (name, (ttl, audit, more)) in enumerate(variants.items()):
                port = free_port()
                gateway_env = {
                    "CHISO_GATEWAY_DATA_DIR": scratch,
                    "CHISO_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{scratch}/gateway{index}.db",
                    "CHISO_GATEWAY_INDICATORS_URL": indicators,
                    "CHISO_GATEWAY_JWT_SECRET": SECRET,
                    "CHISO_GATEWAY_SERVICE_TOKEN_SECRET": service_secret,
                    "CHISO_GATEWAY_CACHE_TTL_SECONDS": ttl,
                    "CHISO_GATEWAY_AUDIT_ENABLED": audit,
                    # A limit no run reaches: the quota is counted, as in a deployment.
                    "CHISO_GATEWAY_QUOTA_TIERS": json.dumps({"standard": 1_000_000_000}),
                    "CHISO_GATEWAY_LOG_LEVEL": "WARNING",
                    **more,
                }
                settings = gateway_settings(data, gateway_env["CHISO_GATEWAY_DATABASE_URL"])
                created = asyncio.run(create_client("bench", ["indicators:read"], "", settings))
                processes.append(start("gateway", port, gateway_env, data / f"gateway{index}.log"))
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base)
                tokens[name] = httpx.post(
                    base + "/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(created.client_id, created.client_secret),
                ).json()["access_token"]
                gateways[name] = f"{base}{SERIES_GATEWAY}"
            # Each gateway has its own database, so its own client and token: a gateway
            # refuses tokens of clients it does not know (revocation check).
            urls = {"direct": indicators + SERIES_DIRECT, **gateways}
            asyncio.run(run(urls, tokens))
        finally:
            for process in reversed(processes):
                stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
