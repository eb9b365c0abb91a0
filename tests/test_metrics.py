"""The metrics contract of all three services: each one's metric names, types and labels
(scraped over real HTTP), the METRICS_* settings (own port, path, off), and the shipped
alert rules, whose every selector must name a metric and labels that exist."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml
from fastapi import FastAPI

from chiso_gateway.main import create_app as create_gateway
from chiso_gateway.settings import Settings as GatewaySettings
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from tests.gateway.support import SECRET
from tests.scrape import Scrape
from tests.support import REPO, free_port, fresh_database, serving

ROOT = REPO
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
README = ROOT / "README.md"

HTTP = {
    "chiso_http_requests": ("counter", {"service", "method", "route", "status"}),
    "chiso_http_request_duration_seconds": ("histogram", {"service", "method", "route"}),
    "chiso_metrics_refresh_errors": ("counter", {"service"}),
    "chiso_build_info": ("gauge", {"service", "version"}),
}
EXPECTED: dict[str, dict[str, tuple[str, set[str]]]] = {
    "gateway": {
        **HTTP,
        "chiso_gateway_quota_rejections": ("counter", {"tier"}),
        "chiso_gateway_cache_hits": ("counter", {"cache"}),
        "chiso_gateway_cache_misses": ("counter", {"cache"}),
        "chiso_gateway_upstream_errors": ("counter", {"upstream", "kind"}),
        "chiso_gateway_tokens_issued": ("counter", set()),
        "chiso_gateway_token_refusals": ("counter", {"reason"}),
        "chiso_gateway_auth_refusals": ("counter", {"reason"}),
    },
    "ingest": {
        **HTTP,
        "chiso_ingest_queue_jobs": ("gauge", {"status"}),
        "chiso_ingest_outbox_messages": ("gauge", {"status"}),
        "chiso_ingest_outbox_oldest_pending_age_seconds": ("gauge", set()),
        "chiso_ingest_job_attempts": ("counter", {"outcome"}),
        "chiso_ingest_jobs_failed": ("counter", {"reason"}),
        "chiso_ingest_extraction_seconds": ("histogram", set()),
        "chiso_ingest_facts_per_document": ("histogram", set()),
        "chiso_ingest_deliveries": ("counter", {"outcome"}),
        "chiso_ingest_delivery_retries": ("counter", {"reason"}),
        "chiso_ingest_facts_delivered": ("counter", set()),
    },
    "indicators": {
        **HTTP,
        "chiso_indicators_import_batches": ("counter", {"source", "outcome"}),
        "chiso_indicators_facts_imported": ("counter", {"source", "result"}),
        "chiso_indicators_import_seconds": ("histogram", {"source"}),
    },
}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}
# Labels Prometheus adds to every series it scrapes.
TARGET_LABELS = {"job", "instance"}


def build(service: str, tmp_path: Path, database: str, **metrics: Any) -> FastAPI:
    """The service's app on `database`, the other services nowhere."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    common: dict[str, Any] = {"data_dir": tmp_path, "database_url": database, **metrics}
    if service == "gateway":
        gateway = GatewaySettings(
            **common,
            ingest_url=nowhere,
            indicators_url=nowhere,
            jwt_secret=SECRET,
            revision_check_seconds=0,
        )
        return create_gateway(gateway)
    if service == "ingest":
        return create_ingest(IngestSettings(**common, indicators_url=nowhere, run_worker=False))
    return create_indicators(IndicatorsSettings(**common))


def sample_names() -> dict[str, tuple[str, set[str]]]:
    """Every sample name the services can expose, with its family's labels."""
    names: dict[str, tuple[str, set[str]]] = {}
    for families in EXPECTED.values():
        for family, (kind, labels) in families.items():
            for suffix in SUFFIXES[kind]:
                extra = {"le"} if suffix == "_bucket" else set()
                names[family + suffix] = (family, labels | extra)
    return names


@pytest.fixture(params=sorted(EXPECTED))
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(service: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path, service) as url:
        yield url


@pytest.fixture
def own_port(service: str, tmp_path: Path, database: str) -> Iterator[tuple[str, str]]:
    """The service with METRICS_PORT set: (its app URL, its metrics URL)."""
    port = free_port()
    app = build(service, tmp_path, database, metrics_port=port, metrics_host="127.0.0.1")
    with serving(app) as url:
        yield url, f"http://127.0.0.1:{port}"


def test_metrics_on_their_own_port_only(service: str, own_port: tuple[str, str]) -> None:
    app_url, metrics_url = own_port
    assert httpx.get(f"{app_url}/healthz").status_code == 200
    assert httpx.get(f"{app_url}/metrics").status_code == 404
    assert httpx.get(f"{metrics_url}/healthz").status_code == 404
    response = httpx.get(f"{metrics_url}/metrics")
    assert response.status_code == 200
    metrics = Scrape.parse(response.text)
    assert metrics.value("chiso_build_info", service=service) == 1
    # The app's requests are counted, in the registry the metrics port serves.
    health = {"service": service, "route": "/healthz", "status": "200"}
    assert metrics.value("chiso_http_requests_total", **health) == 1
    # /metrics on the app port was no route: a 404 of no template.
    assert metrics.value("chiso_http_requests_total", route="<unmatched>", status="404") == 1


def test_the_metrics_port_closes_with_the_app(service: str, tmp_path: Path, database: str) -> None:
    port = free_port()
    app = build(service, tmp_path, database, metrics_port=port, metrics_host="127.0.0.1")
    with serving(app):
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics")


def test_each_service_exposes_its_metric_names_types_and_labels(
    service: str, tmp_path: Path, database: str
) -> None:
    with serving(build(service, tmp_path, database)) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        response = httpx.get(f"{url}/metrics")  # on the app's port by default, no token asked
    assert response.status_code == 200
    metrics = Scrape.parse(response.text)
    # The text format shows a counter's or histogram's `_created` as a gauge family of its own.
    ours = {
        name: kind
        for name, kind in metrics.types.items()
        if name.startswith("chiso_") and not name.endswith("_created")
    }
    expected = EXPECTED[service]
    assert ours == {name: kind for name, (kind, _) in expected.items()}
    names = sample_names()
    for sample in metrics.samples:
        if sample.name.startswith("chiso_"):
            family, labels = names[sample.name]
            assert set(sample.labels) == labels, (sample.name, sample.labels)
    assert "process_resident_memory_bytes" in {sample.name for sample in metrics.samples}


def test_the_metrics_path_is_a_setting(tmp_path: Path, indicators_db: str) -> None:
    app = build("indicators", tmp_path, indicators_db, metrics_path="/internal/prometheus")
    with serving(app) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
        moved = httpx.get(f"{url}/internal/prometheus")
    assert moved.status_code == 200
    assert Scrape.parse(moved.text).value("chiso_build_info", service="indicators") == 1


def test_metrics_can_be_turned_off(service: str, tmp_path: Path, database: str) -> None:
    port = free_port()
    app = build(service, tmp_path, database, metrics_enabled=False, metrics_port=port)
    with serving(app) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/metrics").status_code == 404
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/metrics")


def test_a_metrics_port_in_use_stops_the_start(tmp_path: Path) -> None:
    port = free_port()
    with (
        fresh_database(tmp_path, "first") as first_db,
        fresh_database(tmp_path, "second") as second_db,
        serving(build("indicators", tmp_path, first_db, metrics_port=port)),
    ):
        second = build("indicators", tmp_path, second_db, metrics_port=port)

        async def start() -> None:
            async with second.router.lifespan_context(second):
                raise AssertionError("started with its metrics port taken")

        with pytest.raises(RuntimeError, match=f"cannot serve metrics on 0.0.0.0:{port}"):
            asyncio.run(start())


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        elif isinstance(node, promql_parser.MatrixSelector):
            found.append(node.vector_selector)
        return True

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return found


def test_alert_rules_name_only_metrics_and_labels_that_exist() -> None:
    names = sample_names()
    seen: set[str] = set()
    assert rules()
    for rule in rules():
        assert rule["alert"].startswith("Chiso"), rule
        assert rule["labels"]["severity"] in {"page", "warning", "info"}, rule
        assert rule["annotations"]["summary"] and rule["annotations"]["summary_vi"], rule
        found = selectors(rule["expr"])
        assert found, rule["expr"]
        for selector in found:
            assert selector.name in names, (rule["alert"], selector.name)
            family, labels = names[selector.name]
            seen.add(family)
            matched = {matcher.name for matcher in selector.matchers.matchers}
            assert matched <= labels | TARGET_LABELS, (rule["alert"], selector.name, matched)
    # The rules watch each service's own work, not only HTTP.
    assert {f.split("_")[1] for f in seen} >= {"http", "ingest", "indicators", "gateway"}


def test_the_readme_lists_every_metric() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Metrics") :]
    for families in EXPECTED.values():
        for family, (kind, _) in families.items():
            shown = family + ("_total" if kind == "counter" else "")
            assert f"`{shown}" in section, shown
