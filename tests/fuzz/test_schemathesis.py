"""Schemathesis against the three services' OpenAPI documents, on live servers with seeded data.

Every operation of ingest, indicators and the gateway gets `CHISO_FUZZ_EXAMPLES` generated
requests (valid and invalid ones, the document's examples, and requests naming seeded rows),
derandomized so every run sends the same ones. No response may be a 5xx, and every response's
status, media type and body must be the ones the OpenAPI document declares. Run alone with
`./scripts/test -m fuzz`; raise CHISO_FUZZ_EXAMPLES for a deeper run.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from chiso_gateway.auth.clients import SCOPES
from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from tests.fuzz.harness import REPORTS, Finding, Report, Target, fuzz
from tests.gateway.support import GOLD, REDIS_URL, gateway_settings, new_client, post_gold
from tests.support import SERVICE_SECRET, SERVICES, fresh_database, service_headers, serving

pytestmark = pytest.mark.fuzz

# Requests per operation at most (operations with few possible inputs get fewer). 45 operations
# at 100 each are about 3,600 requests, near two minutes per database on two cores; the draw is
# derandomized, so a failure here fails on every run until it is fixed.
EXAMPLES = int(os.environ.get("CHISO_FUZZ_EXAMPLES", "100"))

REPORT = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH NGHỆ AN NĂM 2023\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Nghệ An ước đạt 3.120.000 thuê bao, "
    "tăng 2,3% so với cùng kỳ.\n"
)


@dataclass(frozen=True)
class Known:
    """A finding another branch of the same security review fixes: the check failing on these
    operations with this status, and a phrase of its message, request or response that says
    which defect it is."""

    branch: str
    checks: frozenset[str]
    status: int
    says: str
    operations: frozenset[tuple[str, str]]


# Findings another branch of the same change fixes, while branches are merged: empty on main.
KNOWN_ELSEWHERE: tuple[Known, ...] = ()


def _known_elsewhere(service: str) -> Callable[[Finding], bool]:
    return lambda found: any(
        (service, found.operation) in known.operations
        and found.check in known.checks
        and found.status == known.status
        and known.says in f"{found.message}\n{found.request}\n{found.response}"
        for known in KNOWN_ELSEWHERE
    )


@dataclass(frozen=True)
class Suite:
    ingest: str
    indicators: str
    gateway: str
    document_id: str
    token: str


def _wait_extracted(ingest: str, document_id: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        status = httpx.get(
            f"{ingest}/v1/documents/{document_id}", headers=service_headers("ingest"), timeout=10
        ).json()["status"]
        if status not in {"queued", "extracting", "running"}:
            assert status != "failed"
            return
        assert time.monotonic() < deadline, f"the seeded document is still {status}"
        time.sleep(0.1)


@contextmanager
def _signed(env: pytest.MonkeyPatch) -> Iterator[None]:
    """Every service started in the block shares the tests' service token secret."""
    for service in SERVICES:
        env.setenv(f"CHISO_{service.upper()}_SERVICE_TOKEN_SECRET", SERVICE_SECRET)
    yield


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The three services on free ports, the gold facts imported, one document extracted."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with (
        pytest.MonkeyPatch.context() as env,  # module-wide: the autouse fixture is per test
        fresh_database(tmp, "ingest") as ingest_db,
        fresh_database(tmp, "indicators") as indicators_db,
        fresh_database(tmp, "gateway") as gateway_db,
        _signed(env),
        serving(
            create_indicators(IndicatorsSettings(data_dir=tmp, database_url=indicators_db))
        ) as indicators,
        serving(
            create_ingest(
                IngestSettings(
                    data_dir=tmp,
                    database_url=ingest_db,
                    indicators_url=indicators,
                    poll_interval=0.05,
                )
            )
        ) as ingest,
    ):
        if GOLD.is_dir():  # more rows to read; the document below seeds some without it
            post_gold(indicators)
        accepted = httpx.post(
            f"{ingest}/v1/documents",
            json={"filename": "nghe-an-2023.txt", "text": REPORT, "scope": "VN-40"},
            headers=service_headers("ingest"),
            timeout=30,
        )
        assert accepted.status_code == 202, accepted.text
        document_id = accepted.json()["id"]
        _wait_extracted(ingest, document_id)
        settings = gateway_settings(
            tmp,
            gateway_db,
            indicators,
            ingest_url=ingest,
            redis_url=REDIS_URL,
            # Unlimited: the run sends hundreds of requests a minute as one client.
            quota_tiers={"standard": 0},
            token_limit_per_client=0,
            token_limit_per_address=0,
        )
        with serving(create_gateway(settings)) as gateway:
            created = asyncio.run(new_client(settings, sorted(SCOPES)))
            token = httpx.post(
                f"{gateway}/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(created.client_id, created.client_secret),
                timeout=30,
            )
            assert token.status_code == 200, token.text
            yield Suite(
                ingest=ingest,
                indicators=indicators,
                gateway=gateway,
                document_id=document_id,
                token=token.json()["access_token"],
            )


def _ingest(suite: Suite) -> Target:
    document = {"document_id": [suite.document_id]}
    return Target(
        service="ingest",
        known_elsewhere=_known_elsewhere("ingest"),
        base_url=suite.ingest,
        headers=service_headers("ingest"),  # as the gateway calls it
        known_paths={
            f"{method} /v1/documents/{{document_id}}{tail}": document
            for method, tail in (
                ("GET", ""),
                ("GET", "/facts"),
                ("GET", "/text"),
                ("GET", "/layout"),
                ("POST", "/reextract"),
            )
        },
    )


def _indicators(suite: Suite) -> Target:
    return Target(
        service="indicators",
        known_elsewhere=_known_elsewhere("indicators"),
        base_url=suite.indicators,
        headers=service_headers("indicators"),  # as the gateway and ingest call it
        known_paths={
            "GET /v1/areas/{code}": {"code": ["40", "24", "27", "VN"]},
            "GET /v1/indicators/{code}": {"code": ["telecom.subscribers.total"]},
        },
        known_queries={
            "GET /v1/indicators/{code}/series": [{"area": "40"}, {"area": "38"}],
            "GET /v1/observations": [{"area": "40"}, {"indicator": "telecom.subscribers.total"}],
        },
    )


def _gateway(suite: Suite) -> Target:
    return Target(
        service="gateway",
        known_elsewhere=_known_elsewhere("gateway"),
        base_url=suite.gateway,
        headers={"Authorization": f"Bearer {suite.token}"},
        known_paths={
            "GET /v1/documents/{document_id}": {"document_id": [suite.document_id]},
            "GET /v1/areas/{code}/summary": {"code": ["38", "40", "46"]},
            "GET /sdmx/2.1/data/{flow}/{key}": {
                "flow": ["DF_PROVINCE_ICT", "CHISO,DF_PROVINCE_ICT,1.0"],
                "key": ["A.38....", "all"],
            },
            "GET /sdmx/2.1/dataflow/{agency}/{resource_id}/{version}": {
                "agency": ["CHISO"],
                "resource_id": ["DF_PROVINCE_ICT"],
                "version": ["latest", "1.0"],
            },
            "GET /dhis2/api/dataElements/{uid}": {"uid": ["ZJXcSJZeE1i"]},
            "GET /dhis2/api/organisationUnits/{uid}": {"uid": ["rourXAF5MvN"]},
        },
    )


def _explain(report: Report, findings: list[Finding]) -> str:
    lines = [
        f"{report.service}: {len(findings)} finding(s) in {report.operations} operations, "
        f"{report.examples} requests, {report.seconds:.0f}s"
    ]
    for found in findings:
        count = report.counts[(found.operation, found.check, found.status, False)]
        lines.append(
            f"- {found.operation} [{found.check}] {found.status} x{count}: {found.title}\n"
            f"    {found.message}\n"
            f"    request:  {found.request}\n    response: {found.response}"
        )
    return "\n".join(lines)


def _assert_clean(report: Report, request: pytest.FixtureRequest) -> None:
    request.config.stash.setdefault(REPORTS, []).append(report)
    unexpected = [found for _, found in sorted(report.findings.items())]
    assert report.examples >= report.operations, "an operation got no request"
    assert not unexpected, _explain(report, unexpected)


def test_ingest_answers_as_documented(suite: Suite, request: pytest.FixtureRequest) -> None:
    _assert_clean(fuzz(_ingest(suite), examples=EXAMPLES), request)


def test_indicators_answers_as_documented(suite: Suite, request: pytest.FixtureRequest) -> None:
    _assert_clean(fuzz(_indicators(suite), examples=EXAMPLES), request)


def test_gateway_answers_as_documented(suite: Suite, request: pytest.FixtureRequest) -> None:
    _assert_clean(fuzz(_gateway(suite), examples=EXAMPLES), request)
