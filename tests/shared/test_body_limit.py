"""BodyLimitMiddleware on any app: however a route reads its body, past the limit it is a 413."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from chiso_shared.body_limit import BodyLimitMiddleware
from chiso_shared.errors import install_error_handlers
from chiso_shared.request_id import RequestIdMiddleware

pytestmark = pytest.mark.asyncio
LIMIT = 1000
JSON = {"content-type": "application/json"}


class Item(BaseModel):
    text: str


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT, namespace="demo")
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app, "demo")

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/model")  # FastAPI reads the body itself, and calls a failed read a 400
    async def model(item: Item) -> dict[str, int]:
        return {"size": len(item.text)}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    return app


async def chunks(size: int, sent: list[int]) -> AsyncIterator[bytes]:
    yield b'{"text": "'
    for _ in range(size // 100):
        sent.append(100)
        yield b"a" * 100
    yield b'"}'


@pytest.mark.parametrize("path", ["/raw", "/model", "/stream"])
async def test_every_way_of_reading_the_body_is_capped(path: str) -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        sent: list[int] = []
        response = await client.post(path, content=chunks(100_000, sent), headers=JSON)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "demo.too_large"
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert sum(sent) <= LIMIT + 100  # nothing read past the chunk that crossed the limit

        fits = await client.post(path, content=chunks(500, []), headers=JSON)
        assert fits.status_code == 200, fits.text
        assert fits.json()["size"] == (500 if path == "/model" else 512)
