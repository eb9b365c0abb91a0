"""Request body limits hold while the body streams in, chunked or not, on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from chiso_gateway.body_limit import upload_body_limit
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.body_limit import BodyLimitMiddleware
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import free_port, serving

pytestmark = pytest.mark.asyncio
CHUNK = 64 * 1024


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str) -> Settings:
    # Nothing listens at ingest: a body that got forwarded would come back as a 502.
    return gateway_settings(
        tmp_path, gateway_db, f"http://127.0.0.1:{free_port()}", max_upload_bytes=100_000
    )


@pytest.fixture
def gateway_url(settings: Settings) -> Iterator[str]:
    with serving(create_app(settings)) as url:
        yield url


class Chunks:
    """A chunked request body of `count` chunks that counts how many were asked for."""

    def __init__(self, count: int, first: bytes = b"") -> None:
        self.count = count
        self.first = first
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for number in range(self.count):
            self.sent += 1
            yield (self.first if number == 0 else b"") + b"a" * CHUNK


async def test_a_chunked_upload_over_the_limit_is_refused_and_not_forwarded(
    gateway_url: str, settings: Settings
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        headers = await bearer(http, await new_client(settings, ["documents:write"]))
        body = Chunks(200)  # 12.5 MiB, against a limit of about 200 KiB
        response = await http.post(
            "/v1/documents",
            content=body.__aiter__(),
            headers={**headers, "Content-Type": "application/json"},
        )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "gateway.too_large"
    assert str(upload_body_limit(settings)) in problem["detail"]
    assert problem["request_id"] == response.headers["X-Request-ID"]


async def test_a_chunked_token_form_over_the_limit_is_refused(
    gateway_url: str, settings: Settings
) -> None:
    prefix = b"grant_type=client_credentials&client_id=ch_x&client_secret="
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        for path in ("/oauth2/token", "/oauth2/revoke"):
            response = await http.post(
                path,
                content=Chunks(16, prefix).__aiter__(),  # 1 MiB
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 413, response.text
            assert response.json()["code"] == "gateway.too_large"
            assert str(settings.max_body_bytes) in response.json()["detail"]


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    gateway_url: str, settings: Settings
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        headers = await bearer(http, await new_client(settings, ["documents:write"]))
        response = await http.post(
            "/v1/documents",
            content=b"{" + b" " * upload_body_limit(settings) + b"}",
            headers={**headers, "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "gateway.too_large"


async def _reads_the_whole_body(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await Response(str(len(body)))(scope, receive, send)


async def _call(limit: int, chunks: int, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """Send `chunks` 1 KiB chunks through the guard; the status and the chunks it pulled."""
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": pulled < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    guard = BodyLimitMiddleware(_reads_the_whole_body, max_bytes=lambda _s: limit, namespace="t")
    await guard(scope, receive, send)
    return int(sent[0]["status"]), pulled


async def test_the_guard_stops_reading_as_soon_as_the_limit_is_passed() -> None:
    assert await _call(10 * 1024, 1000, []) == (413, 11)
    assert await _call(10 * 1024, 10, []) == (200, 10)
    declared = [(b"content-length", str(1000 * 1024).encode())]
    assert await _call(10 * 1024, 1000, declared) == (413, 0)
