from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import fresh_database, postgres_url


def pytest_report_header() -> str:
    return (
        f"chiso databases: {'PostgreSQL ' + (postgres_url() or '') if postgres_url() else 'SQLite'}"
    )


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
