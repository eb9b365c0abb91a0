"""Fixtures of the web app's browser tests (their helpers are in tests/e2e/support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser import OfflinePage
from tests.e2e.support import Officer, local_page, officer_suite


@pytest.fixture
def officer(
    tmp_path: Path, ingest_db: str, indicators_db: str, gateway_db: str
) -> Iterator[Officer]:
    """The three services on free ports, and an officer of Thanh Hóa who may read, upload
    and review."""
    with officer_suite(tmp_path, ingest_db, indicators_db, gateway_db) as officer:
        yield officer


@pytest.fixture
def vietnamese_page(browser: Browser) -> Iterator[OfflinePage]:
    """`offline_page` in a browser set to Vietnamese (vi-VN), as an officer's is: the file
    and date controls the page leaves to the browser speak Vietnamese in the screenshots."""
    with local_page(
        browser,
        locale="vi-VN",
        viewport={"width": 1280, "height": 900},
        reduced_motion="reduce",  # no fading notice caught half-way in a screenshot
    ) as page:
        yield page
