"""More than one of each: two ingest workers, two indicators and two gateways as processes on
one PostgreSQL and one Redis.

200 generated reports go in through both gateways at once. Afterwards every fact the
extractor finds in them (worked out here with the same library, offline) is stored once by
ingest and imported once by indicators, every job was claimed once and both workers took
some, every outbox batch was imported once under its Idempotency-Key, a small quota holds
across the two gateways, and the audit chain both gateways appended to verifies with
`chiso audit verify`.

Select it alone with `-m replicas`; it needs CHISO_TEST_POSTGRES_URL (a SQLite file belongs to
one process) and Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from chiso.admin import create_client
from chiso_gateway.auth.keys import generate
from chiso_gateway.settings import Settings as GatewaySettings
from chiso_ingest.extraction import extract
from chiso_shared.facts import Fact
from tests.support import free_port, postgres_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.replicas,
    pytest.mark.skipif(
        postgres_url() is None,
        reason="replicas share one database: needs PostgreSQL (CHISO_TEST_POSTGRES_URL)",
    ),
]

DOCUMENTS = 200
TWICE = 20  # reports sent twice at once, through both gateways
JWT_SECRET = "replica-test-signing-key-0123456789abcdef0123"
REDIS_URL = "redis://127.0.0.1:6379/0"
QUOTA = 7  # the `tiny` tier: requests per (hour-long) window
TIERS = {"tiny": QUOTA, "standard": 600, "unlimited": 0}
PROVINCES = (
    "Nghệ An",
    "Thanh Hóa",
    "Hà Tĩnh",
    "Quảng Bình",
    "Quảng Trị",
    "Thừa Thiên Huế",
    "Quảng Nam",
    "Quảng Ngãi",
    "Bình Định",
    "Phú Yên",
)


def dotted(number: int) -> str:
    """A Vietnamese integer: 3.120.017."""
    return f"{number:,}".replace(",", ".")


def report(index: int) -> tuple[str, str]:
    """The file name and text of report `index`: a province and year of its own, and numbers
    no other report has, so every fact it gives is known and distinct."""
    province = PROVINCES[index % len(PROVINCES)]
    year = 2005 + index // len(PROVINCES)
    rate = f"{40 + index // 10},{index % 10}{(index * 7) % 10}"
    text = (
        f"BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH {province.upper()} NĂM {year}\n"
        f"Năm {year}, tổng số thuê bao điện thoại trên địa bàn tỉnh đạt "
        f"{dotted(2_000_000 + 1_000 * index + 17)} thuê bao.\n"
        f"Số thuê bao Internet băng rộng cố định đạt {dotted(300_000 + 100 * index + 3)} "
        "thuê bao.\n"
        f"Toàn tỉnh có {dotted(3_000 + index)} trạm BTS.\n"
        f"Tỷ lệ hồ sơ trực tuyến đạt {rate}%.\n"
    )
    return f"bao-cao-{index:03d}.txt", text


def key(fact: dict[str, Any]) -> tuple[Any, ...]:
    return (
        fact["start"],
        fact["end"],
        fact["indicator"],
        fact["scope"],
        fact["period"],
        float(fact["value"]),
    )


def expected_facts(name: str, text: str) -> set[tuple[Any, ...]]:
    """What ingest's worker should store for this report: the extraction library's answer."""
    facts: list[Fact] = extract(text, doc=name, published=None, scope=None, max_facts=1000)
    return {key(fact.to_jsonl_dict()) for fact in facts}


# -- processes ---------------------------------------------------------------------------


@dataclass
class Replica:
    service: str
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_name(self) -> str:
        """How this process's ingest worker signs its claims (`jobs.claimed_by`)."""
        return f"{socket.gethostname()}:{self.process.pid}"


def launch(service: str, name: str, tmp_path: Path, env: dict[str, str]) -> Replica:
    """`chiso serve <service>` on a free port, in its own process group, with its own data
    dir (as a pod has), the rest of its settings from `env`."""
    port = free_port()
    prefix = f"CHISO_{service.upper()}_"
    data_dir = tmp_path / name
    data_dir.mkdir()
    log = tmp_path / f"{name}.log"
    command = [sys.executable, "-m", "chiso", "serve", service, "--port", str(port)]
    settings = {prefix + "DATA_DIR": str(data_dir), prefix + "LOG_LEVEL": "INFO", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env={**os.environ, **settings},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Replica(service, name, port, process, log)


def wait_healthy(replicas: list[Replica]) -> None:
    deadline = time.monotonic() + 120
    for replica in replicas:
        while True:
            assert not exited(replica.process), f"{replica.name}: {replica.log.read_text()}"
            try:
                if httpx.get(f"{replica.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{replica.name} did not start"
            time.sleep(0.1)


def exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether `process` has ended, without reaping it: until it is reaped its pid, and so
    its process group's id, is not given to another process."""
    if process.returncode is not None:
        return True
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop(replica: Replica) -> None:
    """SIGTERM the replica's process group (its shutdown writes what it has queued), then
    SIGKILL what is left of the group (the ingest readers' fork server), then reap it."""
    process = replica.process
    if process.returncode is not None:  # stopped and reaped before
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while not exited(process) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@dataclass
class Deployment:
    gateways: list[Replica]
    ingests: list[Replica]
    indicators: list[Replica]
    databases: dict[str, str]
    redis_prefix: str


@pytest.fixture
def deployment(
    tmp_path: Path, ingest_db: str, indicators_db: str, gateway_db: str
) -> Iterator[Deployment]:
    """Two of each service, all started at once (so each pair also migrates its database at
    the same time); ingest A and gateway A talk to indicators A, the B's to indicators B."""
    redis_prefix = f"chiso:test:replicas:{uuid.uuid4().hex}:"
    replicas: list[Replica] = []
    try:
        indicators = [
            launch(
                "indicators",
                f"indicators-{x}",
                tmp_path,
                {"CHISO_INDICATORS_DATABASE_URL": indicators_db},
            )
            for x in "ab"
        ]
        replicas += indicators
        ingests = [
            launch(
                "ingest",
                f"ingest-{x}",
                tmp_path,
                {
                    "CHISO_INGEST_DATABASE_URL": ingest_db,
                    "CHISO_INGEST_INDICATORS_URL": upstream.url,
                    "CHISO_INGEST_RUN_WORKER": "true",
                    "CHISO_INGEST_POLL_INTERVAL": "0.2",
                },
            )
            for x, upstream in zip("ab", indicators, strict=True)
        ]
        replicas += ingests
        # Every gateway replica signs with the same keys (in Kubernetes, one Secret), so a
        # token from one is good at the other; made once, before either starts.
        keys_dir = tmp_path / "jwt-keys"
        generate(keys_dir, "EdDSA", name="replicas")
        gateways = [
            launch(
                "gateway",
                f"gateway-{x}",
                tmp_path,
                {
                    "CHISO_GATEWAY_DATABASE_URL": gateway_db,
                    "CHISO_GATEWAY_INGEST_URL": ingest.url,
                    "CHISO_GATEWAY_INDICATORS_URL": upstream.url,
                    "CHISO_GATEWAY_JWT_SECRET": JWT_SECRET,
                    "CHISO_GATEWAY_JWT_KEYS_DIR": str(keys_dir),
                    "CHISO_GATEWAY_REDIS_URL": REDIS_URL,
                    "CHISO_GATEWAY_REDIS_PREFIX": redis_prefix,
                    "CHISO_GATEWAY_QUOTA_TIERS": json.dumps(TIERS),
                    # an hour: a slow run cannot straddle two windows and reset the count
                    "CHISO_GATEWAY_QUOTA_WINDOW_SECONDS": "3600",
                },
            )
            for x, ingest, upstream in zip("ab", ingests, indicators, strict=True)
        ]
        replicas += gateways
        wait_healthy(replicas)
        yield Deployment(
            gateways,
            ingests,
            indicators,
            {"ingest": ingest_db, "indicators": indicators_db, "gateway": gateway_db},
            redis_prefix,
        )
    finally:
        for replica in reversed(replicas):
            stop(replica)
        asyncio.run(forget_redis(redis_prefix))


async def forget_redis(prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [name async for name in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


# -- the databases, read directly --------------------------------------------------------


async def rows(url: str, query: str) -> list[asyncpg.Record]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


async def token(http: httpx.AsyncClient, gateway: Replica, client: Any) -> dict[str, str]:
    answer = await http.post(
        f"{gateway.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def wait_delivered(ingest_db: str, replicas: list[Replica]) -> None:
    """Until every document is delivered (or one failed, or a replica died)."""
    deadline = time.monotonic() + 600
    while True:
        for replica in replicas:
            assert not exited(replica.process), f"{replica.name}: {replica.log.read_text()}"
        counts = {
            row["status"]: row["n"]
            for row in await rows(
                ingest_db, "SELECT status, count(*) AS n FROM documents GROUP BY status"
            )
        }
        assert "failed" not in counts, await rows(
            ingest_db, "SELECT filename, error FROM documents WHERE status = 'failed'"
        )
        if counts.get("delivered") == DOCUMENTS:
            return
        assert time.monotonic() < deadline, f"documents not delivered: {counts}"
        await asyncio.sleep(0.5)


# -- the test ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_two_of_each_import_every_fact_once(deployment: Deployment, tmp_path: Path) -> None:
    gateways, databases = deployment.gateways, deployment.databases
    settings = GatewaySettings(
        data_dir=tmp_path, database_url=databases["gateway"], quota_tiers=TIERS
    )
    uploader = await create_client(
        "Người gửi báo cáo",
        ["documents:write", "indicators:read"],
        "stttt-test",
        settings,
        tier="unlimited",
    )
    frugal = await create_client(
        "Ứng dụng nhỏ", ["indicators:read"], "app-test", settings, tier="tiny"
    )
    reports = [report(index) for index in range(DOCUMENTS)]
    expected = {name: expected_facts(name, text) for name, text in reports}
    assert all(expected.values()), "every generated report has facts to find"

    async with httpx.AsyncClient(timeout=60) as http:
        # A token from one gateway is good at the other (one signing key).
        headers = await token(http, gateways[0], uploader)
        gate = asyncio.Semaphore(16)

        async def upload(index: int, gateway: Replica) -> tuple[str, str, bool]:
            name, text = reports[index]
            async with gate:
                answer = await http.post(
                    f"{gateway.url}/v1/documents",
                    files={"file": (name, text.encode(), "text/plain")},
                    headers=headers,
                )
            assert answer.status_code == 202, answer.text
            data = answer.json()["data"]
            return name, data["id"], data["duplicate"]

        # Each report through one gateway, and the first few a second time through the other
        # at the same moment: two ingest replicas receiving one text keep one document.
        sends = [(index, gateways[index % 2]) for index in range(DOCUMENTS)]
        sends += [(index, gateways[1 - index % 2]) for index in range(TWICE)]
        uploads = await asyncio.gather(*(upload(index, gateway) for index, gateway in sends))
        ids = {name: document_id for name, document_id, _ in uploads}
        assert len(set(ids.values())) == DOCUMENTS
        for name in [name for name, _ in reports[:TWICE]]:
            pair = [(document_id, twice) for sent, document_id, twice in uploads if sent == name]
            assert sorted(pair) == [(ids[name], False), (ids[name], True)], pair

        # Reads through both gateways while the workers extract: more appends to the one
        # audit chain.
        async def read(index: int) -> int:
            async with gate:
                answer = await http.get(f"{gateways[index % 2].url}/v1/indicators", headers=headers)
            return answer.status_code

        assert set(await asyncio.gather(*(read(index) for index in range(100)))) == {200}
        await wait_delivered(databases["ingest"], [*deployment.ingests, *deployment.indicators])

        # Quotas across replicas: the tiny client's calls, at once, half to each gateway.
        small = await token(http, gateways[1], frugal)

        async def spend(index: int) -> httpx.Response:
            return await http.get(f"{gateways[index % 2].url}/v1/indicators", headers=small)

        answers = await asyncio.gather(*(spend(index) for index in range(4 * QUOTA)))
        later = [await spend(index) for index in range(2)]  # one more at each gateway
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: QUOTA, 429: 3 * QUOTA}, statuses
    assert [answer.status_code for answer in later] == [429, 429]
    assert all(answer.headers["RateLimit-Limit"] == str(QUOTA) for answer in answers)

    await check_ingest(databases["ingest"], ids, expected, deployment.ingests)
    outbox_keys = await delivered_batches(databases["ingest"])
    await check_indicators(databases["indicators"], ids, expected, outbox_keys)

    # The audit chain: stop the gateways (they write all they queued), then verify.
    for gateway in gateways:
        stop(gateway)
    await check_audit(databases["gateway"], frugal.client_id)


async def check_ingest(
    ingest_db: str,
    ids: dict[str, str],
    expected: dict[str, set[tuple[Any, ...]]],
    ingests: list[Replica],
) -> None:
    # No job done twice: one job per document, claimed once (attempts counts claims), done,
    # and both workers took some (else this would not be a test of two).
    jobs = await rows(ingest_db, "SELECT document_id, status, attempts, claimed_by FROM jobs")
    assert sorted(job["document_id"] for job in jobs) == sorted(ids.values())
    assert {(job["status"], job["attempts"]) for job in jobs} == {("done", 1)}
    claims = Counter(job["claimed_by"] for job in jobs)
    assert set(claims) == {replica.worker_name() for replica in ingests}, claims

    # Every fact stored once, and exactly the facts the extractor finds.
    stored = await rows(
        ingest_db,
        "SELECT d.filename, f.extractor_version, f.data::text AS data FROM facts f "
        "JOIN documents d ON d.id = f.document_id",
    )
    found: dict[str, list[tuple[Any, ...]]] = {}
    for row in stored:
        found.setdefault(row["filename"], []).append(key(json.loads(row["data"])))
    assert {name: sorted(facts) for name, facts in found.items()} == {
        name: sorted(facts) for name, facts in expected.items()
    }
    assert len({row["extractor_version"] for row in stored}) == 1
    counts = await rows(ingest_db, "SELECT filename, fact_count FROM documents")
    assert {row["filename"]: row["fact_count"] for row in counts} == {
        name: len(facts) for name, facts in expected.items()
    }


async def delivered_batches(ingest_db: str) -> list[str]:
    outbox = await rows(ingest_db, "SELECT idempotency_key, status FROM outbox")
    assert {row["status"] for row in outbox} == {"delivered"}
    return [row["idempotency_key"] for row in outbox]


async def check_indicators(
    indicators_db: str,
    ids: dict[str, str],
    expected: dict[str, set[tuple[Any, ...]]],
    outbox_keys: list[str],
) -> None:
    # Each outbox batch imported once, under its own key (and no batch from nowhere).
    batches = await rows(indicators_db, "SELECT key FROM import_batches")
    assert sorted(row["key"] for row in batches) == sorted(outbox_keys)

    # Every fact a source once: one provenance row per (document, span), and per document
    # exactly the spans the extractor found (all these facts name an indicator and a province).
    sources = await rows(indicators_db, 'SELECT document_id, start, "end" FROM provenance')
    spans = Counter((row["document_id"], row["start"], row["end"]) for row in sources)
    assert max(spans.values()) == 1
    names = {document_id: name for name, document_id in ids.items()}
    imported: dict[str, set[tuple[int, int]]] = {}
    for document_id, start, end in spans:
        imported.setdefault(names[document_id], set()).add((start, end))
    assert imported == {
        name: {(fact[0], fact[1]) for fact in facts} for name, facts in expected.items()
    }
    # ...and each its own observation: the reports share no (series, period, value).
    total = sum(len(facts) for facts in expected.values())
    observations = await rows(indicators_db, "SELECT count(*) AS n FROM observations")
    assert observations[0]["n"] == total == len(sources)


async def check_audit(gateway_db: str, frugal: str) -> None:
    env = {**os.environ, "CHISO_GATEWAY_DATABASE_URL": gateway_db}
    env.pop("CHISO_GATEWAY_DATA_DIR", None)
    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "chiso", "audit", "verify", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    audited = await rows(gateway_db, "SELECT client_id, method, route, status FROM audit_log")
    assert result["ok"] is True
    assert result["rows"] == len(audited)
    # Both gateways' rows are in it, none lost: every upload, every quota answer.
    uploads = [row for row in audited if (row["method"], row["route"]) == ("POST", "/v1/documents")]
    assert len(uploads) == DOCUMENTS + TWICE
    spent = Counter(
        row["status"]
        for row in audited
        if row["client_id"] == frugal and row["route"] == "/v1/indicators"
    )
    assert spent == {200: QUOTA, 429: 3 * QUOTA + 2}
