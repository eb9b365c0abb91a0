"""POST /v1/facts and the DHIS2 import: a body over MAX_REQUEST_BYTES is a 413 as it streams
in, chunked or not, and nothing of it is imported."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from tests.support import fact, service_headers, serving

pytestmark = pytest.mark.asyncio
LIMIT = 64 * 1024


@pytest.fixture
def url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db, max_request_bytes=LIMIT)
    with serving(create_app(settings)) as base:
        yield base


def batch(count: int) -> bytes:
    facts = [fact(doc="a.txt", start=10 * n, end=10 * n + 9) for n in range(count)]
    return json.dumps({"documents": [{"id": "d1", "name": "a.txt"}], "facts": facts}).encode()


async def chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("path", ["/v1/facts", "/dhis2/api/dataValueSets"])
async def test_a_chunked_body_over_the_limit_is_a_413(url: str, path: str) -> None:
    body = batch(800)
    assert len(body) > 2 * LIMIT
    headers = {**service_headers("indicators"), "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        response = await client.post(path, content=chunks(body))
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "indicators.too_large"
        assert str(LIMIT) in response.json()["detail"]
        # Nothing of the refused batch was imported; a batch under the limit still is.
        read = await client.get("/v1/observations")
        assert read.json()["items"] == []
        small = await client.post("/v1/facts", content=chunks(batch(2)))
        assert small.status_code == 200, small.text
        assert small.json()["imported"] == 1
