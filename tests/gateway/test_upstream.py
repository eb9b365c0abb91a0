"""An upstream that is down, hangs or fails: 502/504 with X-Gateway-Error, quickly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.http import HttpClientSettings
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import free_port, running, serving

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series?area=38"
POINT = b'{"period":"2023","value":1}'


def _answer(status: bytes, body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 " + status, b"content-type: application/json", *extra]
    head.append(b"content-length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


ANSWERS = {
    "fail": _answer(b"500 Internal Server Error", b'{"detail":"boom"}'),
    "invalid": _answer(b"200 OK", b'{"items":[],"next_cursor":null}'),
    # A series page, its one header 1 MB long.
    "huge-header": _answer(b"200 OK", b"[]", b"x-count: 0", b"x-big: " + b"a" * 1024 * 1024),
    # An interim 100 Continue, then the answer (one series page of one point).
    "continue": b"HTTP/1.1 100 Continue\r\n\r\n"
    + _answer(b"200 OK", b"[" + POINT + b"]", b"x-count: 1"),
    "redirect": _answer(b"307 Temporary Redirect", b"", b"location: /v1/revision"),
    # A valid empty series page of 2,002 bytes, its length declared or chunked.
    "big-body": _answer(b"200 OK", b"[" + b" " * 2000 + b"]", b"x-count: 0"),
    "big-chunked-body": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-count: 0\r\n"
    b"transfer-encoding: chunked\r\n\r\n7d2\r\n[" + b" " * 2000 + b"]\r\n0\r\n\r\n",
    # A CSV export that breaks off after its first chunk (no last chunk).
    "broken-csv": b"HTTP/1.1 200 OK\r\ncontent-type: text/csv; charset=utf-8\r\n"
    b"transfer-encoding: chunked\r\n\r\n10\r\nindicator,area\r\n\r\n",
}


@pytest_asyncio.fixture
async def fake_upstream() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A TCP server on 127.0.0.1 that never answers (`hang`) or gives every request one of
    the `ANSWERS`."""
    mode = {"mode": "hang"}
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if mode["mode"] == "hang":
            held.append(writer)
            return
        writer.write(ANSWERS[mode["mode"]])
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


def _settings(tmp_path: Path, gateway_db: str, indicators_url: str, **extra: Any) -> Settings:
    return gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        http=HttpClientSettings(connect_timeout=0.5, read_timeout=0.5, pool_timeout=0.5),
        **extra,
    )


async def test_hanging_upstream_is_a_quick_504(
    tmp_path: Path,
    gateway_db: str,
    fake_upstream: tuple[str, dict[str, str]],
) -> None:
    url, _ = fake_upstream
    settings = _settings(tmp_path, gateway_db, url)
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
        ("fail", "/v1/areas/38/summary", "indicators:500", "gateway.upstream_error"),
        ("fail", "/v1/observations?format=csv", "indicators:500", "gateway.upstream_error"),
        ("invalid", SERIES, "indicators:invalid", "gateway.upstream_invalid"),
        ("huge-header", SERIES, "indicators:invalid", "gateway.upstream_invalid"),
        (
            "redirect",
            "/v1/indicators/telecom.subscribers.total",
            "indicators:307",
            "gateway.upstream_redirect",
        ),
    ],
    ids=[
        "failing",
        "failing-export",
        "series-page-in-another-shape",
        "1-MB-header",
        "redirect-not-followed",
    ],
)
async def test_a_bad_upstream_answer_is_a_502(
    tmp_path: Path,
    gateway_db: str,
    fake_upstream: tuple[str, dict[str, str]],
    mode_name: str,
    path: str,
    gateway_error: str,
    code: str,
) -> None:
    url, mode = fake_upstream
    mode["mode"] = mode_name
    settings = _settings(tmp_path, gateway_db, url)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        response = await http.get(path, headers=headers)
    assert response.status_code == 502
    assert response.headers["X-Gateway-Error"] == gateway_error
    assert response.json()["code"] == code
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


async def test_an_export_that_breaks_off_is_never_a_shorter_file(
    tmp_path: Path, gateway_db: str, fake_upstream: tuple[str, dict[str, str]]
) -> None:
    """The gateway streams a whole-selection CSV as it arrives; when indicators breaks off
    mid-way, the client's transfer is left incomplete (an error in any HTTP client), not
    ended as if the file were whole."""
    url, mode = fake_upstream
    mode["mode"] = "broken-csv"
    settings = _settings(tmp_path, gateway_db, url)
    with serving(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            headers = await bearer(http, await new_client(settings, ["indicators:read"]))
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get("/v1/observations?format=csv", headers=headers)


async def test_unreachable_upstream_is_a_quick_502(tmp_path: Path, gateway_db: str) -> None:
    settings = _settings(tmp_path, gateway_db, f"http://127.0.0.1:{free_port()}")
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


async def test_an_interim_100_continue_is_followed_by_the_real_answer(
    tmp_path: Path, gateway_db: str, fake_upstream: tuple[str, dict[str, str]]
) -> None:
    url, mode = fake_upstream
    mode["mode"] = "continue"
    settings = _settings(tmp_path, gateway_db, url)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        response = await http.get(SERIES, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["observations"] == [{"period": "2023", "value": 1}]


@pytest.mark.parametrize("mode_name", ["big-body", "big-chunked-body"])
async def test_an_answer_over_the_body_limit_is_a_502(
    tmp_path: Path, gateway_db: str, fake_upstream: tuple[str, dict[str, str]], mode_name: str
) -> None:
    url, mode = fake_upstream
    mode["mode"] = mode_name
    settings = _settings(tmp_path, gateway_db, url, upstream_max_body_bytes=2001)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        too_large = await http.get(SERIES, headers=headers)
    assert too_large.status_code == 502, too_large.text
    assert too_large.headers["X-Gateway-Error"] == "indicators:invalid"
    settings = _settings(tmp_path, gateway_db, url, upstream_max_body_bytes=2002)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        just_fits = await http.get(SERIES, headers=headers)
    assert just_fits.status_code == 200, just_fits.text
    assert just_fits.json()["data"]["observations"] == []


@pytest_asyncio.fixture
async def trailing_upstream() -> AsyncIterator[str]:
    """A keep-alive server whose first answer (an empty series page) is followed by the start
    of a second one (a page of one point, cut before its last byte) that no request asked
    for; every later request gets an empty page."""
    first = [True]
    empty = _answer(b"200 OK", b"[]", b"x-count: 0")
    unasked = _answer(b"200 OK", b"[" + POINT + b"]", b"x-count: 1")[:-1]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(empty + unasked if first[0] else empty)
                first[0] = False
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def test_bytes_after_an_answer_never_answer_the_next_request(
    tmp_path: Path, gateway_db: str, trailing_upstream: str
) -> None:
    # The connection of the first answer holds a message begun: reused, its parser would
    # take the next answer as the rest of that one.
    settings = _settings(tmp_path, gateway_db, trailing_upstream, cache_ttl_seconds=0)
    async with running(create_app(settings)) as http:
        headers = await bearer(http, await new_client(settings, ["indicators:read"]))
        answers = [await http.get(SERIES, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert [a.json()["data"]["observations"] for a in answers] == [[], [], []]
