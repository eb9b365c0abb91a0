"""An upstream that is down, hangs or fails: 502/504 with X-Gateway-Error, quickly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.http import HttpClientSettings
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import free_port, running

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series?org_unit=VN-38"


@pytest_asyncio.fixture
async def fake_upstream() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A TCP server on 127.0.0.1 that never answers (`hang`), answers 500 (`fail`) or answers
    200 with JSON that is not a series page (`invalid`)."""
    mode = {"mode": "hang"}
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if mode["mode"] == "hang":
            held.append(writer)
            return
        body = b'{"detail":"boom"}'
        status = b"500 Internal Server Error"
        if mode["mode"] == "invalid":
            body, status = b'{"items":[],"next_cursor":null}', b"200 OK"
        writer.write(
            b"HTTP/1.1 %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (status, len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", mode
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.fixture(params=["builtin", "aiohttp", "httpx"])
def client_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _settings(tmp_path: Path, gateway_db: str, indicators_url: str, client: str) -> Settings:
    return gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        http_client=client,
        http=HttpClientSettings(connect_timeout=0.5, read_timeout=0.5, pool_timeout=0.5),
    )


async def test_hanging_upstream_is_a_quick_504(
    tmp_path: Path,
    gateway_db: str,
    fake_upstream: tuple[str, dict[str, str]],
    client_name: str,
) -> None:
    url, _ = fake_upstream
    settings = _settings(tmp_path, gateway_db, url, client_name)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        started = time.monotonic()
        response = await http.get(SERIES, headers=headers)
        elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.headers["X-Gateway-Error"] == "indicators:timeout"
    assert response.json()["code"] == "gateway.upstream_timeout"
    assert elapsed < 5


@pytest.mark.parametrize(
    ("mode_name", "path", "gateway_error", "code"),
    [
        ("fail", "/v1/org-units/VN-38/summary", "indicators:500", "gateway.upstream_error"),
        ("invalid", SERIES, "indicators:invalid", "gateway.upstream_invalid"),
    ],
    ids=["failing", "series-page-in-another-shape"],
)
async def test_a_bad_upstream_answer_is_a_502(
    tmp_path: Path,
    gateway_db: str,
    fake_upstream: tuple[str, dict[str, str]],
    client_name: str,
    mode_name: str,
    path: str,
    gateway_error: str,
    code: str,
) -> None:
    url, mode = fake_upstream
    mode["mode"] = mode_name
    settings = _settings(tmp_path, gateway_db, url, client_name)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        response = await http.get(path, headers=headers)
    assert response.status_code == 502
    assert response.headers["X-Gateway-Error"] == gateway_error
    assert response.json()["code"] == code
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


async def test_unreachable_upstream_is_a_quick_502(
    tmp_path: Path, gateway_db: str, client_name: str
) -> None:
    settings = _settings(tmp_path, gateway_db, f"http://127.0.0.1:{free_port()}", client_name)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        started = time.monotonic()
        answers = [
            await http.get(path, headers=headers)
            for path in (SERIES, "/v1/observations?format=csv", "/sdmx/2.1/dataflow")
        ]
        elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [502, 502, 502]
    assert {a.headers["X-Gateway-Error"] for a in answers} == {"indicators:unreachable"}
    assert {a.headers.get("X-Cache", "") for a in answers} == {""}
    assert elapsed < 5
