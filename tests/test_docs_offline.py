"""The API docs of every service (/docs, /redoc) work with no Internet: each page and every
asset it loads come from the service itself, answer without a token, and render in Chromium
with every outside request refused."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from fastapi import FastAPI

from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from chiso_shared.docs import install_docs
from tests.browser import OfflinePage
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import REPO, free_port, running, serving

PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
OUTSIDE_MARKERS = ("http://", "https://", "//cdn", "cdn.jsdelivr", "fonts.googleapis", "unpkg")
MANIFEST = REPO / "scripts" / "vendor-assets.toml"


def _gateway(tmp_path: Path, database: str) -> FastAPI:
    # No upstream is needed to show the docs: nothing listens on the upstream's port.
    return create_gateway(gateway_settings(tmp_path, database, f"http://127.0.0.1:{free_port()}"))


def _ingest(tmp_path: Path, database: str) -> FastAPI:
    return create_ingest(IngestSettings(data_dir=tmp_path, database_url=database, run_worker=False))


def _indicators(tmp_path: Path, database: str) -> FastAPI:
    return create_indicators(IndicatorsSettings(data_dir=tmp_path, database_url=database))


FACTORIES: dict[str, Callable[[Path, str], FastAPI]] = {
    "gateway": _gateway,
    "ingest": _ingest,
    "indicators": _indicators,
}


@pytest.fixture(params=sorted(FACTORIES))
def service_app(request: pytest.FixtureRequest, tmp_path: Path) -> FastAPI:
    database = request.getfixturevalue(f"{request.param}_db")
    return FACTORIES[request.param](tmp_path, database)


class References(HTMLParser):
    """Every URL a page loads by itself: src, href and ReDoc's spec-url attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [
            value for name, value in attrs if name in {"src", "href", "spec-url"} and value
        ]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


@pytest.mark.asyncio
async def test_docs_pages_load_nothing_from_outside(service_app: FastAPI) -> None:
    # No token at all: the docs are public, like /openapi.json, on every service (ingest and
    # indicators answer other routes only with a service token).
    async with running(service_app, service_token=False) as client:
        loaded: set[str] = set()
        for page in PAGES:
            answer = await client.get(page)
            assert answer.status_code == 200, (page, answer.text)
            assert answer.headers["content-type"].startswith("text/html")
            html = answer.text.lower()
            assert not [marker for marker in OUTSIDE_MARKERS if marker in html], page
            loaded.update(references(answer.text))
        assert {url for url in loaded if url.endswith(".js")} == {
            "/static/docs/swagger-ui/swagger-ui-bundle.js",
            "/static/docs/redoc/redoc.standalone.js",
        }
        for url in sorted(loaded):
            await _assert_served(client, url)


async def _assert_served(client: httpx.AsyncClient, url: str) -> None:
    assert url.startswith("/"), url
    answer = await client.get(url)
    assert answer.status_code == 200, (url, answer.text[:200])
    suffix = Path(url).suffix
    expected = CONTENT_TYPES.get(suffix, "application/json")
    assert answer.headers["content-type"].split(";")[0] == expected, url
    assert answer.content, url


@pytest.mark.asyncio
async def test_docs_follow_the_root_path_of_a_proxy(tmp_path: Path, indicators_db: str) -> None:
    app = _indicators(tmp_path, indicators_db)
    async with running(app, service_token=False) as client:
        plain = references((await client.get("/docs")).text)
    app.root_path = "/indicators"  # as `uvicorn --root-path` behind a proxy's prefix
    async with running(app, service_token=False) as client:
        prefixed = references((await client.get("/docs")).text)
    assert prefixed == ["/indicators" + url for url in plain]


def test_install_docs_refuses_an_app_with_fastapis_cdn_pages() -> None:
    with pytest.raises(ValueError, match="docs_url=None"):
        install_docs(FastAPI())


@pytest.mark.asyncio
async def test_gateway_docs_are_neither_counted_nor_audited_as_assets(
    tmp_path: Path, gateway_db: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, f"http://127.0.0.1:{free_port()}")
    async with running(create_gateway(settings)) as gateway:
        reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
        auditor = await bearer(gateway, await new_client(settings, ["audit:admin"]))
        for url in ("/docs", "/redoc", "/static/docs/swagger-ui/swagger-ui.css"):
            answer = await gateway.get(url, headers=reader)
            assert answer.status_code == 200
            assert "RateLimit-Remaining" not in answer.headers, url  # no quota spent
        found = (await gateway.get("/v1/audit?limit=100", headers=auditor)).json()["data"]
    # The pages are audited like /openapi.json; the assets, the same bytes for all, are not.
    assert [row["route"] for row in found] == ["/oauth2/token", "/oauth2/token", "/docs", "/redoc"]


def test_vendored_assets_ship_in_the_packages() -> None:
    """Read through importlib.resources, as an installed wheel is: every file the manifest of
    scripts/vendor-assets names is there, and fonts.css points only at fonts that are."""
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    roots = {
        "shared/src/chiso_shared/": files("chiso_shared"),
        "services/gateway/src/chiso_gateway/": files("chiso_gateway"),
    }
    shipped = [package for package in manifest["package"] if not package.get("test")]
    targets = [path for package in shipped for path in package["files"].values()]
    assert targets
    for target in targets:
        root = next(prefix for prefix in roots if target.startswith(prefix))
        assert roots[root].joinpath(target.removeprefix(root)).is_file(), target
    vendor = files("chiso_gateway").joinpath("web/static/vendor")
    assert vendor.joinpath("chart.umd.min.js").is_file()
    stylesheet = vendor.joinpath("fonts.css").read_text(encoding="utf-8")
    fonts = _css_urls(stylesheet)
    assert len(fonts) == 6  # 400 and 600, each in vietnamese, latin-ext and latin
    for url in fonts:
        assert vendor.joinpath(url).is_file(), url
        assert vendor.joinpath(url).read_bytes()[:4] == b"wOF2", url
    assert "U+1EA0-1EF9" in stylesheet  # the Vietnamese letters with two diacritics


def _css_urls(stylesheet: str) -> list[str]:
    return [part.split(")", 1)[0] for part in stylesheet.split("url(")[1:]]


def test_swagger_ui_renders_offline_in_chromium(
    offline_page: OfflinePage, tmp_path: Path, gateway_db: str
) -> None:
    with serving(_gateway(tmp_path, gateway_db)) as base:
        page = offline_page.page
        page.goto(urljoin(base, "/docs"))
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=30_000)
        assert "chiso gateway" in title.inner_text()
        # The operations came from /openapi.json and were drawn.
        page.locator(".opblock").first.wait_for(timeout=30_000)
    assert offline_page.outside == []
    assert offline_page.errors == []


def test_redoc_renders_offline_in_chromium(
    offline_page: OfflinePage, tmp_path: Path, gateway_db: str
) -> None:
    with serving(_gateway(tmp_path, gateway_db)) as base:
        page = offline_page.page
        page.goto(urljoin(base, "/redoc"))
        heading = page.locator("h1", has_text="chiso gateway")
        heading.wait_for(timeout=30_000)
        page.locator("[data-section-id^='tag/'], [data-section-id^='operation/']").first.wait_for(
            timeout=30_000
        )
    assert offline_page.outside == []
    assert offline_page.errors == []
