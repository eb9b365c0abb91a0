"""Fixtures of the ingest tests that deliver to a real indicators service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_indicators.main import create_app as indicators_app
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from tests.support import running, serving


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(indicators_app(settings)) as url:
        yield url


@pytest_asyncio.fixture
async def client(
    tmp_path: Path, ingest_db: str, indicators_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path, database_url=ingest_db, indicators_url=indicators_url, poll_interval=0.05
    )
    async with running(create_app(settings)) as http:
        yield http
