from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import SERVICE_SECRET, SERVICES, fresh_database, postgres_url

# `browser` and `offline_page`: a headless Chromium for the tests that need one.
pytest_plugins = ("tests.browser",)


def pytest_report_header() -> str:
    return (
        f"chiso databases: {'PostgreSQL ' + (postgres_url() or '') if postgres_url() else 'SQLite'}"
    )


@pytest.fixture(autouse=True)
def service_token_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """One service token secret for every service a test starts (in-process or not)."""
    for service in SERVICES:
        monkeypatch.setenv(f"CHISO_{service.upper()}_SERVICE_TOKEN_SECRET", SERVICE_SECRET)
    return SERVICE_SECRET


@pytest.fixture(autouse=True)
def suite_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's own folder for the records of running suites (`chiso.running`): a test's
    `chiso up` is then never found by another test's `chiso clients`, nor by the person's own."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CHISO_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def ingest_db(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path, "ingest") as url:
        yield url


@pytest.fixture
def indicators_db(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path, "indicators") as url:
        yield url


@pytest.fixture
def gateway_db(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path, "gateway") as url:
        yield url
