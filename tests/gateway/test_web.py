"""The web app's page and files: served at / and /app/static, public, outside OpenAPI and the
audit, under a strict Content-Security-Policy; and every string it shows in both languages."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_gateway.web.router import STATIC
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import running

I18N = STATIC / "i18n"
SOURCES = [STATIC / "index.html", STATIC / "app.js", *sorted((STATIC / "js").glob("*.js"))]
# `t('key'` or `k('key'` in the scripts; `data-i18n="key"` or `data-i18n-<attribute>="key"`.
SCRIPT_KEY = re.compile(r"\b[tk]\(\s*'([^']+)'")
MARKUP_KEY = re.compile(r'data-i18n(?:-[a-z-]+)?="([^"]+)"')


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


class _Page(HTMLParser):
    """What the page loads and whether anything in it is inline."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.inline += [name for name in values if name.startswith("on") or name == "style"]
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.inline.append("<script> without src")
            else:
                self.assets.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "stylesheet":
            self.assets.append(str(values["href"]))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("script text")


@pytest.mark.asyncio
async def test_page_is_public_strict_and_loads_only_its_own_files(
    gateway: httpx.AsyncClient,
) -> None:
    page = await gateway.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="vi">' in page.text
    parsed = _Page()
    parsed.feed(page.text)
    assert parsed.inline == []
    assert "/app/static/vendor/chart.umd.min.js" in parsed.assets
    for asset in parsed.assets:
        assert asset.startswith("/app/static/"), asset
        answer = await gateway.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["x-content-type-options"] == "nosniff"
    script = await gateway.get("/app/static/js/api.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


@pytest.mark.asyncio
async def test_every_module_the_page_imports_is_served(gateway: httpx.AsyncClient) -> None:
    imports = re.compile(r"""^import .* from '(\./[^']+)';$""", re.MULTILINE)
    for source in SOURCES[1:]:
        for relative in imports.findall(source.read_text(encoding="utf-8")):
            target = (source.parent / relative).resolve()
            assert target.is_file(), f"{source.name} imports {relative}"
            path = "/app/static/" + target.relative_to(STATIC).as_posix()
            assert (await gateway.get(path)).status_code == 200, path


@pytest.mark.asyncio
async def test_other_paths_still_answer_problems(gateway: httpx.AsyncClient) -> None:
    for path in ("/nowhere", "/app/static/nowhere.js", "/app/static/../main.py"):
        missing = await gateway.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "gateway.not_found"
    assert (await gateway.post("/")).status_code == 405


@pytest.mark.asyncio
async def test_page_is_not_in_openapi_nor_audited_nor_counted(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    for _ in range(3):
        assert (await gateway.get("/")).status_code == 200
        assert (await gateway.get("/app/static/app.css")).status_code == 200
        assert (await gateway.get("/app/areas.json")).status_code == 200
    auditor = await bearer(gateway, await new_client(settings, ["audit:admin"]))
    found = (await gateway.get("/v1/audit?limit=1000", headers=auditor)).json()["data"]
    assert [row["route"] for row in found] == ["/oauth2/token"]  # the auditor's own token
    assert "ratelimit-limit" not in {name.lower() for name in (await gateway.get("/")).headers}
    paths = (await gateway.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/app/")]


@pytest.mark.asyncio
async def test_area_list_names_each_code_once(gateway: httpx.AsyncClient) -> None:
    rows = (await gateway.get("/app/areas.json")).json()
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes))
    by_code = {row["code"]: row for row in rows}
    assert by_code["38"] == {
        "code": "38",
        "scope": "VN-38",
        "name_vi": "Thanh Hóa",
        "name_en": "Thanh Hoa",
        "level": "province",
        "current": True,
    }
    assert by_code["27"]["current"] is False  # merged into 24 in 2025
    assert rows[0]["code"] == "VN"


def test_both_languages_have_the_same_keys_and_every_key_used_exists() -> None:
    vi = json.loads((I18N / "vi.json").read_text(encoding="utf-8"))
    en = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
    assert sorted(vi) == sorted(en)
    assert all(isinstance(text, str) and text.strip() for text in [*vi.values(), *en.values()])
    used: set[str] = set()
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        found = MARKUP_KEY.findall(text) if source.suffix == ".html" else SCRIPT_KEY.findall(text)
        missing = sorted(set(found) - set(vi))
        assert not missing, f"{source.name} uses keys missing from vi.json: {missing}"
        used.update(found)
    assert sorted(set(vi) - used) == [], "keys no page uses"
    for key, text in vi.items():  # the same {placeholders} in both
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", en[key])), key


def test_scripts_show_no_text_of_their_own() -> None:
    """Visible words come from the i18n files: no Vietnamese or English sentence is written
    into a script (a letter with a Vietnamese mark in a string would be one)."""
    vietnamese = re.compile(
        r"'[^'\n]*[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ][^'\n]*'"
    )
    for source in SOURCES[1:]:
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("//"):
                continue
            assert not vietnamese.search(line), f"{source.name}:{number}: {line.strip()}"


@pytest.mark.asyncio
async def test_index_is_served_without_a_token_and_api_still_needs_one(
    gateway: httpx.AsyncClient,
) -> None:
    assert (await gateway.get("/")).status_code == 200
    assert (await gateway.get("/v1/areas/38/summary")).status_code == 401
