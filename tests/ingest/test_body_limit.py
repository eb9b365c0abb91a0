"""The upload limit holds for chunked bodies too: counted while they stream in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from tests.support import free_port, running, service_headers, serving

pytestmark = pytest.mark.asyncio
LIMIT = 256 * 1024  # request bytes
HUGE = 200 * 1024 * 1024
CHUNK = 64 * 1024


def settings_for(tmp_path: Path, ingest_db: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        indicators_url=f"http://127.0.0.1:{free_port()}",
        max_request_bytes=LIMIT,
        run_worker=False,
    )


@pytest.fixture
def url(tmp_path: Path, ingest_db: str) -> Iterator[str]:
    with serving(create_app(settings_for(tmp_path, ingest_db))) as base_url:
        yield base_url


@pytest_asyncio.fixture
async def app_client(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    """The ASGI app called in-process: its `receive` pulls the body chunk by chunk."""
    async with running(create_app(settings_for(tmp_path, ingest_db))) as client:
        yield client


class Body:
    """`head`, filler, then `tail`: `size` bytes sent chunked; counts what the server took."""

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self.head, self.size, self.tail = head, size, tail
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces():
            self.sent += len(piece)
            yield piece

    def _pieces(self) -> Iterator[bytes]:
        yield self.head
        left = self.size - len(self.head) - len(self.tail)
        while left > 0:
            yield b"a" * min(CHUNK, left)
            left -= CHUNK
        yield self.tail


def multipart(size: int) -> tuple[Body, dict[str, str]]:
    head = (
        b'--xx\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nNam 2023 "
    )
    body = Body(head, size, b"\r\n--xx--\r\n")
    return body, {"content-type": "multipart/form-data; boundary=xx"}


def json_body(size: int) -> tuple[Body, dict[str, str]]:
    body = Body(b'{"filename": "big.txt", "text": "', size, b'"}')
    return body, {"content-type": "application/json"}


Make = Callable[[int], tuple[Body, dict[str, str]]]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "ingest.too_large"
    assert str(LIMIT) in problem["detail"]
    assert problem["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("make", [multipart, json_body])
async def test_a_chunked_upload_is_refused_as_soon_as_it_passes_the_limit(
    app_client: httpx.AsyncClient, make: Make
) -> None:
    body, headers = make(HUGE)
    response = await app_client.post("/v1/documents", content=body, headers=headers)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(response)
    # The app stopped reading one chunk past the limit: the body was never buffered whole.
    assert body.sent <= LIMIT + 2 * CHUNK + len(body.head), body.sent


@pytest.mark.parametrize("make", [multipart, json_body])
async def test_a_chunked_upload_over_http_gets_the_413_and_the_server_goes_on(
    url: str, make: Make
) -> None:
    body, headers = make(20 * 1024 * 1024)
    signed = service_headers("ingest")  # as the gateway calls it
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=signed) as client:
        response = await client.post("/v1/documents", content=body, headers=headers)
        assert "content-length" not in response.request.headers
        assert_too_large(response)
        # A chunked body under the limit is still accepted, on the same server.
        small, headers = make(LIMIT // 2)
        accepted = await client.post("/v1/documents", content=small, headers=headers)
        assert accepted.status_code == 202, accepted.text


@pytest.mark.parametrize("path", ["/v1/documents", "/v1/documents/reextract"])
async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    app_client: httpx.AsyncClient, path: str
) -> None:
    payload = json.dumps({"filename": "a.txt", "text": "a" * LIMIT}).encode()
    response = await app_client.post(
        path, content=payload, headers={"content-type": "application/json"}
    )
    assert_too_large(response)
    assert f"is {len(payload)} bytes" in response.json()["detail"]
