"""A headless Chromium for browser tests (Playwright for Python driving the Debian package).

Loaded as a pytest plugin by tests/conftest.py, so any test can ask for `browser` (a
Chromium of its own) or `offline_page` (a fresh page whose every request to a host other than
127.0.0.1 is refused and recorded). Browser tests are plain (sync) functions.

One Chromium per test, not per session: while Playwright's sync API is open, its event loop is
marked running in the main thread (it runs in a greenlet), so every asyncio test after it would
fail with "Cannot run the event loop while another loop is running". Starting one takes about a
second.

The browser is the system's /usr/bin/chromium (`CHISO_CHROMIUM` overrides the path), never
one downloaded by `playwright install`: CI installs the Debian package. Where it is missing,
the browser tests are skipped, unless `CHISO_REQUIRE_BROWSER=1`, which makes them fail (CI
sets it, so a broken install cannot pass as skipped).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

CHROMIUM = os.environ.get("CHISO_CHROMIUM", "/usr/bin/chromium")
REQUIRE_ENV = "CHISO_REQUIRE_BROWSER"
# Headless in a container: no sandbox (no user namespaces), no GPU, and nothing Chromium does
# on its own behind the page's back (updates, sync, field trials), so a test that counts the
# page's outside requests counts only the page's.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
]
LOCAL_HOSTS = frozenset({"127.0.0.1"})
# Schemes that never leave the browser.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


def chromium_path() -> Path | None:
    path = Path(CHROMIUM)
    return path if path.is_file() and os.access(path, os.X_OK) else None


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Chromium, closed (with Playwright's event loop) when the test ends."""
    path = chromium_path()
    if path is None:
        message = f"no Chromium at {CHROMIUM} (install the Debian package `chromium`)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message}; {REQUIRE_ENV}=1 requires the browser tests to run")
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class OfflinePage:
    """A page that may reach only 127.0.0.1; what else it tried is in `outside`."""

    page: Page
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[OfflinePage]:
    """A fresh page (its own context: no cookies, storage or cache shared between tests)."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    offline = OfflinePage(page)

    def guard(route: Route, request: Request) -> None:
        if is_local(request.url):
            route.continue_()
        else:
            offline.outside.append(request.url)
            route.abort("blockedbyclient")

    # On the context, so popups and workers of the page are held to the same rule; the
    # `request` event also records what a route cannot stop.
    context.route("**/*", guard)
    context.on("request", lambda request: _note(offline, request))
    page.on("pageerror", lambda error: offline.errors.append(str(error)))
    try:
        yield offline
    finally:
        context.close()


def _note(offline: OfflinePage, request: Request) -> None:
    if not is_local(request.url) and request.url not in offline.outside:
        offline.outside.append(request.url)
