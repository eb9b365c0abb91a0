"""The gateway's own HTTP/1.1 client (`http11.Http11Sender`): what it sends, keep-alive and
its pool, and every way an exchange can fail, against uvicorn and against raw TCP servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from chiso_gateway.http11 import Http11Sender
from chiso_gateway.upstream import UpstreamTimeoutError, UpstreamUnreachableError
from chiso_shared.http import HttpClientSettings
from chiso_shared.request_id import set_request_id
from tests.support import serving

pytestmark = pytest.mark.asyncio
FAST = HttpClientSettings(connect_timeout=0.5, read_timeout=0.5, pool_timeout=0.5)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/echo/{rest:path}", methods=["GET", "POST"])
    async def echo(request: Request, rest: str) -> JSONResponse:
        body = await request.body()
        form = {}
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            async with request.form() as parsed:
                form = {
                    key: value if isinstance(value, str) else (await value.read()).decode()
                    for key, value in parsed.items()
                }
        return JSONResponse(
            {
                "method": request.method,
                "rest": rest,
                "query": request.query_params.multi_items(),
                "headers": dict(request.headers),
                "body": body.decode("utf-8", "replace") if not form else "",
                "form": form,
                "port": request.client.port if request.client else None,
            },
            headers={"X-Twice": "a"},
        )

    @app.get("/chunked")
    async def chunked() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"one,", b"two,", b"three"):
                yield part

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/close")
    async def close(request: Request) -> Response:
        port = request.client.port if request.client else 0
        return Response(str(port), headers={"Connection": "close"})

    return app


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with serving(echo_app()) as url:
        yield url


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start TCP servers on 127.0.0.1 with a given connection handler; all closed after."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(handler: Handler) -> str:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await handler(reader, writer)

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()


async def answer(writer: asyncio.StreamWriter, body: bytes = b"ok") -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()


async def test_sends_path_query_headers_and_json(echo_url: str) -> None:
    sender = Http11Sender(echo_url, FAST)
    set_request_id("req-http11-1")
    try:
        response = await sender.send(
            "POST",
            "/echo/Nghệ An/x",
            params=[("area", "VN-40"), ("label", "tổng số thuê bao & more"), ("area", "VN-42")],
            json={"value": 2980000, "name": "Thừa Thiên Huế"},
            headers={"Accept": "application/json"},
        )
    finally:
        set_request_id(None)
        await sender.aclose()
    assert response.status_code == 200
    seen = json.loads(response.content)
    assert seen["method"] == "POST"
    assert seen["rest"] == "Nghệ An/x"
    assert seen["query"] == [
        ["area", "VN-40"],
        ["label", "tổng số thuê bao & more"],
        ["area", "VN-42"],
    ]
    assert json.loads(seen["body"]) == {"value": 2980000, "name": "Thừa Thiên Huế"}
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["x-request-id"] == "req-http11-1"
    assert seen["headers"]["accept"] == "application/json"
    # Response headers are case-insensitive.
    assert response.headers["x-twice"] == response.headers["X-TWICE"] == "a"
    assert "Content-Length" in response.headers


async def test_sends_multipart_files_and_fields(echo_url: str) -> None:
    sender = Http11Sender(echo_url, FAST)
    try:
        response = await sender.send(
            "POST",
            "/echo/upload",
            files={"file": ("bao-cao.txt", "Tổng số thuê bao".encode(), "text/plain")},
            data={"province": "VN-46"},
        )
    finally:
        await sender.aclose()
    seen = json.loads(response.content)
    assert seen["form"] == {"file": "Tổng số thuê bao", "province": "VN-46"}


async def test_keeps_one_connection_alive_and_reads_chunked_bodies(echo_url: str) -> None:
    sender = Http11Sender(echo_url, FAST)
    try:
        answers = [await sender.send("GET", "/echo/a") for _ in range(8)]
        ports = {json.loads(a.content)["port"] for a in answers}
        chunked = await sender.send("GET", "/chunked")
        after = json.loads((await sender.send("GET", "/echo/b")).content)["port"]
    finally:
        await sender.aclose()
    assert len(ports) == 1
    assert chunked.content == b"one,two,three"
    assert ports == {after}


async def test_a_connection_close_answer_is_not_reused(echo_url: str) -> None:
    sender = Http11Sender(echo_url, FAST)
    try:
        first = (await sender.send("GET", "/close")).content
        second = (await sender.send("GET", "/close")).content
    finally:
        await sender.aclose()
    assert first != second  # two connections, two client ports


async def test_the_pool_bounds_concurrent_connections(echo_url: str) -> None:
    settings = HttpClientSettings(max_connections=3, pool_timeout=5)
    sender = Http11Sender(echo_url, settings)
    try:
        answers = await asyncio.gather(*(sender.send("GET", "/echo/c") for _ in range(30)))
    finally:
        await sender.aclose()
    assert {a.status_code for a in answers} == {200}
    assert 1 <= len({json.loads(a.content)["port"] for a in answers}) <= 3


async def test_idle_connections_beyond_the_keepalive_limit_are_closed(echo_url: str) -> None:
    settings = HttpClientSettings(max_connections=4, max_keepalive_connections=1)
    sender = Http11Sender(echo_url, settings)
    try:
        answers = await asyncio.gather(*(sender.send("GET", "/echo/d") for _ in range(12)))
        kept = len(sender.idle)
    finally:
        await sender.aclose()
    assert len({json.loads(a.content)["port"] for a in answers}) > 1  # several were open
    assert kept == 1


async def test_a_kept_alive_connection_closed_unanswered_is_retried_for_get(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def first_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await answer(writer, b"first")
        await reader.readuntil(b"\r\n\r\n")  # the next request on this connection...
        writer.close()  # ...is dropped unanswered, as by a server closing an idle connection

    sender = Http11Sender(await raw_server(first_only), FAST)
    try:
        assert (await sender.send("GET", "/")).content == b"first"
        assert (await sender.send("GET", "/")).content == b"first"  # on a new connection
        with pytest.raises(UpstreamUnreachableError):
            await sender.send("POST", "/", content=b"x")  # not idempotent: not sent twice
    finally:
        await sender.aclose()


async def test_a_malformed_answer_is_unreachable(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()

    sender = Http11Sender(await raw_server(garbage), FAST)
    try:
        with pytest.raises(UpstreamUnreachableError):
            await sender.send("GET", "/")
    finally:
        await sender.aclose()


async def test_an_answer_ended_only_by_closing_is_unreachable(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def unframed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhalf a body")
        await writer.drain()
        writer.close()

    sender = Http11Sender(await raw_server(unframed), FAST)
    try:
        with pytest.raises(UpstreamUnreachableError, match="closed before the response"):
            await sender.send("GET", "/")
    finally:
        await sender.aclose()


async def test_silence_times_out_but_a_slow_steady_answer_does_not(
    raw_server: Callable[[Handler], Awaitable[str]],
) -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        if request.startswith(b"GET /silent"):
            await asyncio.sleep(30)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        for byte in b"drip":  # 4 x 0.3 s: longer than read_timeout, never silent that long
            await asyncio.sleep(0.3)
            writer.write(bytes([byte]))
            await writer.drain()

    sender = Http11Sender(await raw_server(drip), FAST)
    try:
        assert (await sender.send("GET", "/drip")).content == b"drip"
        started = asyncio.get_running_loop().time()
        with pytest.raises(UpstreamTimeoutError):
            await sender.send("GET", "/silent")
        assert asyncio.get_running_loop().time() - started < 2
    finally:
        await sender.aclose()


async def test_a_full_pool_times_out(raw_server: Callable[[Handler], Awaitable[str]]) -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(30)

    settings = HttpClientSettings(max_connections=1, pool_timeout=0.2, read_timeout=5)
    sender = Http11Sender(await raw_server(hang), settings)
    try:
        held = asyncio.create_task(sender.send("GET", "/"))
        await asyncio.sleep(0.1)
        with pytest.raises(UpstreamTimeoutError, match="no free connection"):
            await sender.send("GET", "/")
        held.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held
    finally:
        await sender.aclose()


async def test_refused_connections_and_bad_input() -> None:
    with pytest.raises(ValueError, match="base URL"):
        Http11Sender("ftp://127.0.0.1", FAST)
    sender = Http11Sender("http://127.0.0.1:9", FAST)  # discard port: nothing listens
    try:
        with pytest.raises(UpstreamUnreachableError):
            await sender.send("GET", "/")
        with pytest.raises(ValueError, match="line break"):
            await sender.send("GET", "/", headers={"X-Evil": "a\r\nHost: elsewhere"})
        with pytest.raises(ValueError, match="HEAD"):
            await sender.send("HEAD", "/")
    finally:
        await sender.aclose()
