"""No silent truncation through the gateway (issue 19): the 5,000 observations of
`tests.indicators.bulk` read over real HTTP, gateway and indicators both served, as an analyst
reads them: pandas on the CSV with a bearer token, openpyxl on the XLSX, JSON pages by the
gateway's own Link headers, gzip when asked; a selection over indicators' maximum is a 413."""

from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openpyxl
import pandas
import pytest

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_gateway.views import indicators as indicator_views
from chiso_indicators.main import create_app as create_indicators
from chiso_shared.tables import XLSX_MEDIA_TYPE
from tests.gateway.support import gateway_settings, new_client
from tests.indicators.bulk import ROWS, export_settings, import_bulk, months
from tests.support import fresh_database, serving

# Area codes as the services name them (CONTRACT19: one place to change when they change).
AREAS = ["01", "02", "04", "06", "08"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    data_dir = tmp_path_factory.mktemp("gateway-exports")
    with fresh_database(data_dir, "indicators") as url:
        yield data_dir, url


@pytest.fixture(scope="module")
def indicators_url(database: tuple[Path, str]) -> Iterator[str]:
    """Indicators with `ROWS` observations, imported in batches; its export maximum `ROWS`."""
    with serving(create_indicators(export_settings(*database, most=ROWS))) as url:
        import_bulk(url)
        yield url


@pytest.fixture
def gateway(tmp_path: Path, gateway_db: str, indicators_url: str) -> Iterator[httpx.Client]:
    """The gateway on a free port, and a client of it holding an `indicators:read` token."""
    with _gateway(gateway_settings(tmp_path, gateway_db, indicators_url)) as http:
        yield http


@contextmanager
def _gateway(settings: Settings) -> Iterator[httpx.Client]:
    with serving(create_app(settings)) as base, httpx.Client(base_url=base, timeout=60) as http:
        created = asyncio.run(new_client(settings, ["indicators:read"]))
        response = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(created.client_id, created.client_secret),
        )
        assert response.status_code == 200, response.text
        http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield http


def _base(http: httpx.Client) -> str:
    return str(http.base_url).rstrip("/")


def test_pandas_reads_every_row_through_the_gateway(gateway: httpx.Client) -> None:
    frame = pandas.read_csv(
        f"{_base(gateway)}/v1/observations?format=csv",
        storage_options={"Authorization": gateway.headers["Authorization"]},
        dtype={"period": str},
    )
    assert len(frame) == ROWS
    assert len(set(zip(frame["area"], frame["period"], strict=True))) == ROWS
    assert set(frame["period"]) == set(months())
    answer = gateway.get("/v1/observations", params={"format": "csv"})
    assert answer.headers["X-Total-Count"] == str(ROWS)
    assert answer.headers.get("transfer-encoding") == "chunked"  # passed on as it arrives
    assert "link" not in answer.headers


def test_json_pages_link_to_the_gateway_to_the_last_row(gateway: httpx.Client) -> None:
    url: str | None = "/v1/observations?limit=900&measure=actual"
    seen: list[tuple[str, str]] = []
    while url:
        page = gateway.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["meta"]["total"] == ROWS
        assert page.headers["X-Total-Count"] == str(ROWS)
        seen += [(item["area"], item["period"]) for item in body["data"]]
        url = page.links.get("next", {}).get("url")
        assert url == body["links"]["next"]
        if url:
            # the gateway's own address, every parameter kept, indicators' cursor
            assert url.startswith(f"{_base(gateway)}/v1/observations?")
            assert "measure=actual" in url and "limit=900" in url
            assert httpx.URL(url).params["cursor"] == body["meta"]["next_cursor"]
    assert len(seen) == len(set(seen)) == ROWS


def test_csv_page_with_limit_links_to_the_gateway(gateway: httpx.Client) -> None:
    page = gateway.get("/v1/observations", params={"format": "csv", "limit": 250})
    assert len(pandas.read_csv(io.BytesIO(page.content))) == 250
    cursor = page.headers["X-Next-Cursor"]
    following = page.links["next"]["url"]
    assert following.startswith(f"{_base(gateway)}/v1/observations?")
    assert httpx.URL(following).params["cursor"] == cursor
    assert page.headers["X-Total-Count"] == str(ROWS)


def test_xlsx_through_the_gateway_holds_every_row(gateway: httpx.Client) -> None:
    answer = gateway.get("/v1/observations", params={"format": "xlsx"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    assert sheet is not None
    assert sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True)) == ROWS


def test_gzip_through_the_gateway(gateway: httpx.Client) -> None:
    plain = gateway.get(
        "/v1/observations", params={"format": "csv"}, headers={"Accept-Encoding": "identity"}
    )
    with gateway.stream(
        "GET", "/v1/observations", params={"format": "csv"}, headers={"Accept-Encoding": "gzip"}
    ) as zipped:
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers.get("transfer-encoding") == "chunked"
        raw = b"".join(zipped.iter_raw())
    assert gzip.decompress(raw) == plain.content
    page = gateway.get("/v1/observations?limit=200", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert page.json()["meta"]["count"] == 200


def test_a_selection_over_the_maximum_is_refused_through_the_gateway(
    tmp_path: Path, gateway_db: str, database: tuple[Path, str]
) -> None:
    with (
        serving(create_indicators(export_settings(*database, most=ROWS - 1))) as indicators,
        _gateway(gateway_settings(tmp_path, gateway_db, indicators)) as http,
    ):
        for format in ("csv", "xlsx"):
            refused = http.get("/v1/observations", params={"format": format})
            assert refused.status_code == 413
            assert refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert problem["code"] == "indicators.export_too_large"
            assert f"{ROWS} observations" in problem["detail"]
            assert "Vùng chọn" in problem["detail"]


def test_compare_is_refused_rather_than_cut(
    gateway: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one page of 1,000 at most: the 1,250 points of five provinces do not fit
    monkeypatch.setattr(indicator_views, "MAX_SERIES_PAGES", 1)
    params = {"indicator": "telecom.subscribers.total", "areas": ",".join(AREAS)}
    for format in ("json", "csv", "xlsx"):
        refused = gateway.get("/v1/compare", params={**params, "format": format})
        assert refused.status_code == 413, refused.text
        problem = refused.json()
        assert problem["code"] == "gateway.selection_too_large"
        assert "1250 observations" in problem["detail"]
        assert "quan sát" in problem["detail"]
    fits = gateway.get("/v1/compare", params={**params, "areas": AREAS[0]})
    assert fits.status_code == 200
