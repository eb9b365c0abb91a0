"""Summary, compare, catalogue, labels, envelopes and errors, on the seeds' gold facts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_gateway.views.catalog import SERVICES
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.gateway.support import GOLD, bearer, gateway_settings, new_client, post_gold
from tests.support import SHARED, running, serving

pytestmark = pytest.mark.asyncio


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    if not GOLD.is_dir():
        pytest.skip("../shared/eval/dev is not present")
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        post_gold(url)
        yield url


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["indicators:read"])))
        yield http


async def test_summary_gives_latest_value_change_and_quoted_source(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/v1/areas/38/summary", headers={"Accept-Language": "vi"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "meta", "links"}
    assert body["data"]["name"] == "Thanh Hóa"
    rows = {row["indicator"]: row for row in body["data"]["indicators"]}
    total = rows["telecom.subscribers.total"]
    assert (total["period"], total["value"], total["status"]) == ("2023", 2980000, "estimate")
    assert total["change"]["previous_period"] == "2022"
    assert total["change"]["previous_value"] == 2957000
    assert total["change"]["absolute"] == 23000
    assert total["reported_change_percent"] == 4.44
    # the reported +4,44% against the levels' +0,78%: flagged on the value the card shows
    rules = {note["rule"] for note in total["quality"] if note["status"] == "open"}
    assert "change_vs_levels" in rules
    assert total["chosen_by"] == "only"
    source = total["source"]
    assert source["document"] == "000_a046602d1e0abbd5.txt"
    seed = (SHARED / "seeds" / source["document"]).read_text(encoding="utf-8")
    assert seed[source["start"] : source["end"]] == source["text"] == "2.980.000"
    assert (source["doubts"], source["confidence"]) == ([], 1.0)  # gold facts carry none
    assert total["name"] == "Tổng số thuê bao điện thoại"
    assert response.headers["Content-Language"] == "vi"


async def test_summary_labels_follow_accept_language(gateway: httpx.AsyncClient) -> None:
    english = await gateway.get(
        "/v1/areas/46/summary", headers={"Accept-Language": "fr, en;q=0.8, vi;q=0.5"}
    )
    assert english.headers["Content-Language"] == "en"
    assert english.json()["data"]["name"] == "Thua Thien Hue"
    rows = {row["indicator"]: row for row in english.json()["data"]["indicators"]}
    assert rows["digital_economy.grdp_share"]["value"] == 11
    assert rows["digital_economy.grdp_share"]["name"] == "Digital economy share of GRDP"


async def test_unknown_org_unit_is_a_namespaced_404(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/areas/99/summary")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "gateway.unknown_area"
    assert problem["request_id"] == response.headers["X-Request-ID"]


async def test_compare_puts_provinces_side_by_side(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get(
        "/v1/compare",
        params={"indicator": "postal.enterprises", "areas": "46,38"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["indicator"] == "postal.enterprises"
    assert data["periods"] == ["2022", "2023"]
    assert [unit["area"] for unit in data["areas"]] == ["46", "38"]
    hue, thanh_hoa = data["areas"]
    assert hue["latest"]["value"] == 19
    assert {(o["period"], o["value"]) for o in thanh_hoa["observations"]} == {
        ("2022", 24),
        ("2023", 20),
    }
    assert thanh_hoa["latest"]["source"]["document"].endswith(".txt")


async def test_old_names_and_codes_redirect_and_iso_codes_say_so(
    gateway: httpx.AsyncClient,
) -> None:
    """`org_units=VN-46,VN-38` (the old name and codes) is answered with a 308 to the same
    request in today's vocabulary; following it gives the answer. ISO's `VN-26` is Huế only
    when marked `iso:` (ISO's `VN-38` does not exist; chiso's old VN-38 was Thanh Hóa)."""
    old = await gateway.get(
        "/v1/compare", params={"indicator": "postal.enterprises", "org_units": "VN-46,VN-38"}
    )
    assert old.status_code == 308 and old.headers["Deprecation"] == "true"
    assert old.headers["Location"] == "/v1/compare?indicator=postal.enterprises&areas=46%2C38"
    assert old.json()["code"] == "gateway.moved_permanently"
    followed = await gateway.get(old.headers["Location"])
    assert [unit["area"] for unit in followed.json()["data"]["areas"]] == ["46", "38"]
    iso = await gateway.get(
        "/v1/compare", params={"indicator": "postal.enterprises", "areas": "iso:VN-26,iso:VN-21"}
    )
    assert [unit["area"] for unit in iso.json()["data"]["areas"]] == ["46", "38"]
    summary = await gateway.get("/v1/org-units/VN-46/summary")
    assert summary.status_code == 308 and summary.headers["Location"] == "/v1/areas/46/summary"


@pytest.mark.parametrize(
    ("areas", "message"), [("38,99", "99"), ("38,VN-99", "VN-99"), (",", "1 to")]
)
async def test_compare_rejects_bad_areas_naming_the_field(
    gateway: httpx.AsyncClient, areas: str, message: str
) -> None:
    response = await gateway.get(
        "/v1/compare", params={"indicator": "postal.enterprises", "areas": areas}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "gateway.bad_areas"
    assert problem["errors"][0]["field"] == "query.areas"
    assert message in problem["errors"][0]["message"]


async def test_unknown_indicator_passes_the_indicators_code_through(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/v1/compare", params={"indicator": "telecom.nope", "areas": "38"})
    assert response.status_code == 404
    assert response.json()["code"].startswith("indicators.")


async def test_series_names_document_and_span(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get(
        "/v1/indicators/telecom.subscribers.total/series",
        params={"area": "38", "from": "2022", "to": "2023"},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["indicator"], data["area"]) == ("telecom.subscribers.total", "38")
    points = {point["period"]: point for point in data["observations"]}
    assert points["2023"]["sources"][0]["document"] == "000_a046602d1e0abbd5.txt"
    assert points["2023"]["sources"][0]["text"] == "2.980.000"


async def test_observations_page_with_cursor_links(gateway: httpx.AsyncClient) -> None:
    seen: list[dict[str, Any]] = []
    url: str | None = "/v1/observations?area=38&limit=20"
    while url:
        body = (await gateway.get(url)).json()
        seen.extend(body["data"])
        url = body["links"]["next"]
    everything = (await gateway.get("/v1/observations?area=38&limit=1000")).json()["data"]
    assert len(everything) > 20
    assert seen == everything


async def test_catalog_lists_services_and_narrows_to_allowed(settings: Settings) -> None:
    async with running(create_app(settings)) as http:
        http.headers.update(await bearer(http, await new_client(settings, ["catalog:read"])))
        full = (await http.get("/v1/catalog", headers={"Accept-Language": "en"})).json()
        allowed = (await http.get("/v1/catalog?allowed=true")).json()
        spec = (await http.get("/openapi.json")).json()
    assert {row["service_code"] for row in full["data"]} == {code for code, *_ in SERVICES}
    assert [row["service_code"] for row in allowed["data"]] == ["CHISO.CATALOG"]
    assert full["meta"]["gateway_version"]
    for row in full["data"]:
        for endpoint in row["endpoints"]:
            path = endpoint["path"].replace("{rest}", "{rest:path}")
            assert endpoint["method"].lower() in spec["paths"].get(
                endpoint["path"], spec["paths"].get(path, {})
            ), endpoint


async def test_every_gateway_route_shows_an_example() -> None:
    spec = create_app().openapi()
    shared = {"/healthz", "/readyz"}  # chiso_shared's probes, the same in every service
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path not in shared:
                assert '"example' in json.dumps(operation), f"{method.upper()} {path}"


async def test_summary_downloads_as_csv_and_xlsx_with_the_same_rows(
    gateway: httpx.AsyncClient,
) -> None:
    import csv
    import io

    import openpyxl

    path = "/v1/areas/38/summary"
    as_csv = await gateway.get(path, params={"format": "csv"}, headers={"Accept-Language": "vi"})
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == 'attachment; filename="chiso-38.csv"'
    assert as_csv.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị", "Kỳ", "Giá trị"]
    total = next(row for row in rows if row[0] == "telecom.subscribers.total")
    assert total[3:6] == ["2023", "2980000", "estimate"]
    assert total[-2] == "000_a046602d1e0abbd5.txt"
    assert rows[0][-1] == "Cảnh báo chất lượng"
    assert "4,44%" in total[-1] and "0,78%" in total[-1]  # the open flag, in Vietnamese

    as_xlsx = await gateway.get(path, params={"format": "xlsx"}, headers={"Accept-Language": "en"})
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0][:2] == ["Indicator code", "Indicator"]
    assert len(cells) == len(rows)
    total_x = next(row for row in cells if row[0] == "telecom.subscribers.total")
    assert total_x[4] == 2980000  # a number, not text


async def test_compare_downloads_one_row_per_province_and_period(
    gateway: httpx.AsyncClient,
) -> None:
    import csv
    import io

    answer = await gateway.get(
        "/v1/compare",
        params={"indicator": "postal.enterprises", "areas": "46,38", "format": "csv"},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Area code"
    assert {(row[0], row[4], row[5]) for row in rows[1:] if row[0] == "38"} == {
        ("38", "2022", "24"),
        ("38", "2023", "20"),
    }


async def test_an_unknown_download_format_is_a_422(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/v1/areas/38/summary", params={"format": "pdf"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
