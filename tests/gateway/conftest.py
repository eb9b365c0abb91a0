"""Fixtures the gateway tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from tests.support import serving


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    """A real indicators service with no data, on a free port: the gateway's upstream. A test
    module that needs rows in it defines its own fixture of this name."""
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        yield url


@pytest.fixture
def ingest_url(tmp_path: Path, ingest_db: str, indicators_url: str) -> Iterator[str]:
    """A real ingest service with its worker, delivering to `indicators_url`, on a free port:
    the gateway's other upstream, for the tests that upload, review or trace."""
    settings = IngestSettings(
        data_dir=tmp_path, database_url=ingest_db, indicators_url=indicators_url, poll_interval=0.05
    )
    with serving(create_ingest(settings)) as url:
        yield url
