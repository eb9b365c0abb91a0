"""No silent truncation (issue 19): 5,000 observations imported through the API and read back
over real HTTP as an analyst's tools read them: pandas on the CSV, openpyxl on the XLSX, the
JSON pages by their Link headers, gzip when asked; one row over the maximum is a 413."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pandas
import pytest

from chiso_indicators.main import create_app
from chiso_shared.tables import XLSX_MEDIA_TYPE as XLSX
from tests.indicators.bulk import ROWS, SCOPES, export_settings, import_bulk, months
from tests.support import fresh_database, service_headers, serving

# Area codes as the service names them (CONTRACT19: one place to change when they change).
HA_NOI = "01"
HA_GIANG = "02"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    data_dir = tmp_path_factory.mktemp("exports")
    with fresh_database(data_dir, "indicators") as url:
        yield data_dir, url


@pytest.fixture(scope="module")
def base_url(database: tuple[Path, str]) -> Iterator[str]:
    """An indicators service holding `ROWS` observations, imported in batches; its export
    maximum is exactly `ROWS`."""
    data_dir, url = database
    with serving(create_app(export_settings(data_dir, url, most=ROWS))) as base:
        import_bulk(base)
        yield base


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=service_headers("indicators"), timeout=60) as c:
        yield c


def _keys(frame: pandas.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["area"], frame["period"], strict=True))


def test_pandas_reads_every_row_of_the_csv(base_url: str, http: httpx.Client) -> None:
    frame = pandas.read_csv(
        f"{base_url}/v1/observations?format=csv",
        storage_options=service_headers("indicators"),  # sent as request headers
        dtype={"period": str},
    )
    assert len(frame) == ROWS
    assert len(set(_keys(frame))) == ROWS  # every row once
    assert set(frame["period"]) == set(months())
    assert frame["value"].sum() == sum(range(1_000_000, 1_000_000 + ROWS))
    answer = http.get("/v1/observations", params={"format": "csv"})
    assert answer.headers["X-Total-Count"] == str(ROWS)
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    # streamed (no length known up front), and no next page to miss
    assert "content-length" not in answer.headers
    assert answer.headers.get("transfer-encoding") == "chunked"
    assert "link" not in answer.headers and "x-next-cursor" not in answer.headers


def test_a_selection_over_the_maximum_is_refused_whole(database: tuple[Path, str]) -> None:
    data_dir, url = database
    app = create_app(export_settings(data_dir, url, most=ROWS - 1))
    with (
        serving(app) as base,
        httpx.Client(base_url=base, headers=service_headers("indicators")) as http,
    ):
        for format in ("csv", "xlsx"):
            refused = http.get("/v1/observations", params={"format": format})
            assert refused.status_code == 413
            assert refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert problem["code"] == "indicators.export_too_large"
            detail = problem["detail"]
            assert f"holds {ROWS} observations" in detail and f"{ROWS - 1}" in detail
            assert "Narrow it with indicator, area" in detail
            assert f"Vùng chọn có {ROWS} quan sát" in detail  # and in Vietnamese
        # narrowed by a filter, it is served whole
        one = http.get("/v1/observations", params={"format": "csv", "area": HA_NOI})
        assert one.status_code == 200
        assert len(pandas.read_csv(io.BytesIO(one.content))) == len(months())
        # and page by page it is always served
        page = http.get("/v1/observations", params={"format": "csv", "limit": 10})
        assert page.status_code == 200


def test_json_pages_followed_by_link_give_every_row_once(http: httpx.Client) -> None:
    url: str | None = "/v1/observations?limit=700&indicator=telecom.subscribers.total"
    seen: list[tuple[str, str]] = []
    pages = 0
    while url:
        page = http.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == ROWS
        assert page.headers["X-Total-Count"] == str(ROWS)
        seen += [(item["area"], item["period"]) for item in body["items"]]
        following = page.links.get("next", {}).get("url")
        if following:
            # absolute, every query parameter kept, the cursor the body names
            assert following.startswith(str(http.base_url).rstrip("/") + "/v1/observations?")
            assert "limit=700" in following and "indicator=telecom.subscribers.total" in following
            assert httpx.URL(following).params["cursor"] == body["next_cursor"]
        else:
            assert body["next_cursor"] is None
        url, pages = following, pages + 1
    assert pages == -(-ROWS // 700)
    assert len(seen) == len(set(seen)) == ROWS


def test_series_points_pages_carry_link_and_total(http: httpx.Client) -> None:
    url: str | None = f"/v1/indicators/telecom.subscribers.total/series?area={HA_GIANG}&limit=100"
    periods: list[str] = []
    while url:
        page = http.get(url)
        assert page.status_code == 200, page.text
        assert page.headers["X-Total-Count"] == str(len(months()))
        assert int(page.headers["X-Count"]) == len(page.json())
        periods += [point["period"] for point in page.json()]
        url = page.links.get("next", {}).get("url")
        assert (url is None) == ("X-Next-Cursor" not in page.headers)
    assert periods == months()


def test_csv_with_limit_is_one_page_and_says_so(http: httpx.Client) -> None:
    page = http.get("/v1/observations", params={"format": "csv", "limit": 100})
    assert page.status_code == 200
    assert len(pandas.read_csv(io.BytesIO(page.content))) == 100
    assert page.headers["X-Total-Count"] == str(ROWS)
    cursor = page.headers["X-Next-Cursor"]
    assert httpx.URL(page.links["next"]["url"]).params["cursor"] == cursor
    rest = http.get("/v1/observations", params={"format": "csv", "limit": 100, "cursor": cursor})
    assert (
        pandas.read_csv(io.BytesIO(rest.content)).iloc[0]["period"]
        != (pandas.read_csv(io.BytesIO(page.content)).iloc[0]["period"])
    )


def test_xlsx_holds_every_row(http: httpx.Client) -> None:
    answer = http.get("/v1/observations", params={"format": "xlsx"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["content-disposition"] == 'attachment; filename="observations.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    titles, body = rows[0], rows[1:]
    assert titles[:2] == ("indicator", "area") and "quality" in titles
    assert len(body) == ROWS
    column = titles.index("value")
    assert {row[column] for row in body} == set(range(1_000_000, 1_000_000 + ROWS))
    assert all(isinstance(row[column], int) for row in body)  # numbers stay numbers
    areas = {row[titles.index("area")] for row in body}
    assert len(areas) == len(SCOPES)


def test_gzip_when_asked_decompresses_to_the_same_csv(http: httpx.Client) -> None:
    plain = http.get(
        "/v1/observations", params={"format": "csv"}, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    with http.stream(
        "GET", "/v1/observations", params={"format": "csv"}, headers={"Accept-Encoding": "gzip"}
    ) as zipped:
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers.get("transfer-encoding") == "chunked"  # still streamed
        assert "accept-encoding" in zipped.headers["vary"].lower()
        raw = b"".join(zipped.iter_raw())
    assert len(raw) < len(plain.content) / 3
    assert gzip.decompress(raw) == plain.content
    # JSON pages too
    page = http.get("/v1/observations", params={"limit": 500}, headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert len(page.json()["items"]) == 500
