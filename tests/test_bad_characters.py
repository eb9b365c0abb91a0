"""Input PostgreSQL cannot take is a 4xx problem, never a 500, on every service: NUL in a path,
a query parameter or an upload's metadata, a cursor holding the wrong JSON, a time that
overflows once converted to UTC. Plus a sweep: NUL in every query and path parameter of every
GET route each service's OpenAPI lists."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import fact, running, service_headers, serving

pytestmark = pytest.mark.asyncio

NUL = "\x00"
OVERFLOWING = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
# Values for path parameters, so a route is reached past its path (examples where the OpenAPI
# has none).
PATH_SAMPLES = {
    "document_id": "2f0c3e1a-7d4b-4c55-9a43-1b2f5e6d7c8a",
    "code": "telecom.subscribers.total",
    "flow": "DF_PROVINCE_ICT",
    "key": "all",
    "agency": "VN_MIC",
    "resource_id": "all",
    "version": "latest",
    "uid": "ZJXcSJZeE1i",
}
# The gateway forwards these routes' other query parameters to indicators as they came.
FORWARDED = {
    "/v1/observations": ("/v1/observations", ""),
}


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    if code is not None:
        assert problem["code"] == code, problem


@pytest.fixture
def indicators_app(tmp_path: Path, indicators_db: str) -> FastAPI:
    return create_indicators(IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db))


@pytest_asyncio.fixture
async def indicators(indicators_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(indicators_app) as client:
        batch = {"documents": [{"id": "d1", "name": "a.txt"}], "facts": [fact(doc="a.txt")]}
        assert (await client.post("/v1/facts", json=batch)).status_code == 200
        yield client


@pytest_asyncio.fixture
async def ingest(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = IngestSettings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    async with running(create_ingest(settings)) as client:
        yield client


@pytest.fixture
def indicators_url(indicators_app: FastAPI) -> Iterator[str]:
    with serving(indicators_app) as url:
        assert httpx.post(
            f"{url}/v1/facts",
            json={"documents": [{"id": "d1", "name": "a.txt"}], "facts": [fact(doc="a.txt")]},
            headers=service_headers("indicators"),
        ).is_success
        yield url


@pytest_asyncio.fixture
async def gateway(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    async with running(create_gateway(settings)) as client:
        # audit:admin: requests refused before authentication belong to no agency.
        scopes = ["catalog:read", "indicators:read", "documents:write", "audit:admin"]
        client.headers.update(await bearer(client, await new_client(settings, scopes)))
        yield client


# --- NUL in paths and query strings ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/v1/observations?indicator=%00",
        "/v1/observations?indicator=telecom.subscribers.total&transformation=a%00b",
        "/v1/series?area=40%00",
        "/v1/areas?code_list=%00",
        "/v1/indicators/telecom%00/series?area=40",
        "/v1/areas/VN%00",
        "/sdmx/2.1/data/DF_PROVINCE_ICT/A.telecom%00",
        "/dhis2/api/dataValueSets?dataElement=%00",
    ],
)
async def test_indicators_refuses_nul(indicators: httpx.AsyncClient, url: str) -> None:
    assert_problem(await indicators.get(url), 400, "indicators.invalid_characters")


async def test_ingest_refuses_nul_in_a_path(ingest: httpx.AsyncClient) -> None:
    assert_problem(await ingest.get("/v1/documents/a%00b"), 400, "ingest.invalid_characters")


@pytest.mark.parametrize("field", ["title", "source_url", "issuer", "published", "scope"])
async def test_ingest_refuses_nul_in_multipart_metadata(
    ingest: httpx.AsyncClient, field: str
) -> None:
    files = {"file": ("a.txt", "Năm 2023 có 3.100.000 thuê bao.".encode(), "text/plain")}
    response = await ingest.post("/v1/documents", files=files, data={field: f"x{NUL}y"})
    assert_problem(response, 422, "ingest.invalid")
    assert response.json()["errors"][0]["field"] == f"body.{field}"


async def test_ingest_refuses_nul_in_a_multipart_file_name(ingest: httpx.AsyncClient) -> None:
    # Written by hand: httpx would percent-encode the NUL in a file name.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nNam 2023 co 3.100.000 thue bao.\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    response = await ingest.post("/v1/documents", content=body, headers=headers)
    assert_problem(response, 422, "ingest.invalid")
    assert response.json()["errors"][0]["field"] == "body.file.filename"


@pytest.mark.parametrize("field", ["filename", "title", "issuer", "media_type", "text"])
async def test_ingest_refuses_nul_in_a_json_upload(ingest: httpx.AsyncClient, field: str) -> None:
    body = {"filename": "a.txt", "text": "Năm 2023 có 3.100.000 thuê bao.", field: f"a{NUL}"}
    response = await ingest.post("/v1/documents", json=body)
    assert_problem(response, 400, "ingest.invalid_characters")
    assert response.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/facts", {"facts": [fact(label=f"a{NUL}b")]}),
        ("/v1/facts", {"facts": [fact(text=f"3.100.000{NUL}")]}),
        ("/v1/facts", {"documents": [{"id": "d1", "name": f"a{NUL}.txt"}], "facts": []}),
        (
            "/dhis2/api/dataValueSets",
            {
                "dataValues": [
                    {
                        "dataElement": "telecom.subscribers.total",
                        "period": "2023",
                        "orgUnit": "38",
                        "value": "1",
                        "comment": f"a{NUL}",
                    }
                ]
            },
        ),
    ],
)
async def test_indicators_refuses_nul_in_a_json_body(
    indicators: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    before = (await indicators.get("/v1/observations")).json()
    assert_problem(await indicators.post(path, json=body), 400, "indicators.invalid_characters")
    assert (await indicators.get("/v1/observations")).json() == before


async def test_an_escaped_backslash_before_u0000_is_text(indicators: httpx.AsyncClient) -> None:
    """`\\u0000` in JSON is a backslash and the letters u0000, which any database stores."""
    label = "a\\u0000b"
    response = await indicators.post(
        "/v1/facts", json={"facts": [fact(label=label, period="2022")]}
    )
    assert response.status_code == 200, response.text
    items = (
        await indicators.get(
            "/v1/observations", params={"start_period": "2022", "end_period": "2022"}
        )
    ).json()["items"]
    assert items[0]["sources"][0]["label"] == label


async def test_gateway_refuses_nul_before_forwarding(gateway: httpx.AsyncClient) -> None:
    for url in ("/v1/observations?indicator=%00", "/v1/indicators/a%00b", "/sdmx/2.1/%00"):
        assert_problem(await gateway.get(url), 400, "gateway.invalid_characters")
    # Refused at the door, yet audited like any answer: the rows reach the database (a NUL
    # kept in a row would fail every write of the chain on PostgreSQL).
    rows = (await gateway.get("/v1/audit", params={"limit": 1000})).json()["data"]
    refused = [row for row in rows if row["status"] == 400]
    assert len(refused) == 3, rows
    assert all("\x00" not in str(value) for row in refused for value in row.values())


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/revoke"])
async def test_gateway_refuses_nul_in_a_form(gateway: httpx.AsyncClient, path: str) -> None:
    body = "grant_type=client_credentials&client_id=ch%00x&client_secret=s&token=t"
    response = await gateway.post(
        path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_problem(response, 400, "gateway.invalid_characters")


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/revoke"])
async def test_a_client_id_holding_nul_is_no_client(gateway: httpx.AsyncClient, path: str) -> None:
    """HTTP Basic credentials are base64 in a header: no guard sees the NUL they decode to."""
    form = {"grant_type": "client_credentials", "token": "t"}
    response = await gateway.post(path, data=form, auth=(f"ch{NUL}x", "secret"))
    assert_problem(response, 401)


# --- cursors holding the wrong JSON ---------------------------------------------------------

BAD_CURSORS = [
    _cursor("a string"),
    _cursor({"an": "object"}),
    _cursor([1, 2, 3, 4, 5]),
    _cursor(["telecom", "40", "one", "2023", 1]),
    _cursor(["telecom", "40", 1, "2023", 2**40]),
    _cursor(["telecom", "40", True, "2023", 1]),
    _cursor(["telecom", "40", 1, "2023", 1.5]),
    _cursor(["telecom", None, 1, "2023", 1]),
    _cursor([["nested"], "40", 1, "2023", 1]),
    _cursor([f"tele{NUL}com", "40", 1, "2023", 1]),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
async def test_a_cursor_of_the_wrong_shape_is_a_400(
    indicators: httpx.AsyncClient, cursor: str
) -> None:
    response = await indicators.get("/v1/observations", params={"cursor": cursor})
    assert_problem(response, 400, "indicators.bad_cursor")
    response = await indicators.get(
        "/v1/indicators/telecom.subscribers.total/series",
        params={"area": "40", "cursor": cursor},
    )
    assert_problem(response, 400, "indicators.bad_cursor")


async def test_a_cursor_the_service_issued_still_pages(indicators: httpx.AsyncClient) -> None:
    second = fact(doc="a.txt", period="2022", start=200, end=209)
    assert (await indicators.post("/v1/facts", json={"facts": [second]})).status_code == 200
    first = await indicators.get("/v1/observations", params={"limit": 1})
    cursor = first.json()["next_cursor"]
    following = await indicators.get("/v1/observations", params={"limit": 1, "cursor": cursor})
    assert following.status_code == 200, following.text
    assert [item["period"] for item in following.json()["items"]] == ["2023"]


# --- times that overflow once converted to UTC ----------------------------------------------


@pytest.mark.parametrize("value", OVERFLOWING)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/observations", "as_of"),
        ("/v1/observations", "updated_after"),
        ("/sdmx/2.1/data/DF_PROVINCE_ICT/all", "updatedAfter"),
        ("/dhis2/api/dataValueSets", "lastUpdated"),
    ],
)
async def test_a_time_beyond_utc_is_a_422(
    indicators: httpx.AsyncClient, path: str, name: str, value: str
) -> None:
    response = await indicators.get(path, params={name: value})
    if path.startswith("/dhis2/"):  # a DHIS2 WebMessage
        assert response.status_code == 422, response.text
        assert (response.json()["httpStatusCode"], response.json()["devMessage"]) == (
            422,
            "indicators.invalid",
        )
    else:
        assert_problem(response, 422, "indicators.invalid")
    assert response.json()["errors"][0]["field"] == f"query.{name}"


async def test_as_of_with_an_offset_is_read_in_utc(indicators: httpx.AsyncClient) -> None:
    """The same instant written with another offset selects the same versions."""
    stored = (await indicators.get("/v1/observations")).json()["items"][0]["recorded_at"]
    assert stored.endswith("Z"), stored  # UTC, as on PostgreSQL (pydantic writes it Z)
    response = await indicators.get("/v1/observations", params={"as_of": "9999-12-31T00:00:00Z"})
    assert len(response.json()["items"]) == 1
    before = await indicators.get("/v1/observations", params={"as_of": "2000-01-01T07:00:00+07:00"})
    assert before.json()["items"] == []


async def test_the_gateway_relays_a_bad_time_as_a_4xx(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/observations", params={"as_of": OVERFLOWING[0]})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    response = await gateway.get("/v1/observations", params={"cursor": BAD_CURSORS[0]})
    assert 400 <= response.status_code < 500, response.text


# --- the sweep ------------------------------------------------------------------------------


def _get_routes(app: FastAPI) -> list[tuple[str, list[str], list[str]]]:
    """(path, path parameters, query parameters) of every GET route in `app`'s OpenAPI."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        in_path = [p["name"] for p in parameters if p["in"] == "path"]
        in_query = [p["name"] for p in parameters if p["in"] == "query"]
        routes.append((path, in_path, in_query))
    return routes


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe="/"))
    return path


def _requests(app: FastAPI, upstream: FastAPI | None) -> list[tuple[str, dict[str, str]]]:
    """A request with NUL in each query parameter and each path parameter of each route."""
    forwarded = {path: query for path, _, query in _get_routes(upstream)} if upstream else {}
    requests: list[tuple[str, dict[str, str]]] = []
    for path, in_path, in_query in _get_routes(app):
        samples = {name: PATH_SAMPLES.get(name, "x") for name in in_path}
        query = list(in_query)
        if path in FORWARDED:
            target, rest = FORWARDED[path]
            samples["rest"] = rest
            query += [name for name in forwarded.get(target, []) if name not in query]
        url = _fill(path, samples)
        requests += [(url, {name: f"a{NUL}"}) for name in query]
        requests += [(_fill(path, samples | {name: f"a{NUL}"}), {}) for name in in_path]
    return requests


async def _sweep(client: httpx.AsyncClient, requests: list[tuple[str, dict[str, str]]]) -> None:
    assert requests
    failures: list[tuple[str, dict[str, str], object]] = []
    for url, params in requests:
        response = await client.get(url, params=params)
        if response.status_code >= 500 or response.status_code < 400:
            failures.append((url, params, response.status_code))
        elif response.headers["content-type"] != "application/problem+json":
            failures.append((url, params, response.headers["content-type"]))
    assert failures == []


async def test_sweep_indicators(indicators: httpx.AsyncClient, indicators_app: FastAPI) -> None:
    await _sweep(indicators, _requests(indicators_app, None))


async def test_sweep_ingest(ingest: httpx.AsyncClient) -> None:
    await _sweep(ingest, _requests(create_ingest(IngestSettings()), None))


async def test_sweep_gateway(gateway: httpx.AsyncClient, indicators_app: FastAPI) -> None:
    app = create_gateway(gateway_settings(Path("."), "sqlite://", "http://127.0.0.1:1"))
    await _sweep(gateway, _requests(app, indicators_app))
