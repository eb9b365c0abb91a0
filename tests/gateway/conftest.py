"""Fixtures the gateway tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.support import serving


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    """A real indicators service with no data, on a free port: the gateway's upstream. A test
    module that needs rows in it defines its own fixture of this name."""
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        yield url
