"""A write is committed before its answer leaves: a caller told 2xx finds what it wrote, and a
write that cannot be committed is never answered 2xx. (FastAPI ends a `yield` dependency after
the response is sent unless it is declared with scope="function".)"""

from __future__ import annotations

import importlib
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from chiso_ingest.db.models import Document
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from chiso_shared.db import create_engine, create_sessionmaker
from chiso_shared.service_auth import ServiceAuth
from tests.support import service_headers

Count = Callable[[], Awaitable[int]]


def counter(url: str, model: type[Document]) -> Count:
    async def count() -> int:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(model)) or 0)
        finally:
            await engine.dispose()

    return count


@asynccontextmanager
async def spied(app: FastAPI, count: Count, seen: list[int]) -> AsyncIterator[httpx.AsyncClient]:
    """`app` in-process; `seen` gets `count()` as each answer's status line goes out."""
    async with app.router.lifespan_context(app) as state:

        async def with_spy(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})

            async def spy(message: Message) -> None:
                if message["type"] == "http.response.start":
                    seen.append(await count())
                await send(message)

            await app(scope, receive, spy)

        auth = (state or {})["service_auth"]
        assert isinstance(auth, ServiceAuth)
        headers = service_headers(auth.audience, secret=auth.secret)
        transport = httpx.ASGITransport(app=with_spy)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as client:
            yield client


@pytest.mark.asyncio
async def test_an_accepted_upload_is_stored_before_the_answer(
    tmp_path: Path, ingest_db: str
) -> None:
    settings = IngestSettings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    seen: list[int] = []
    async with spied(create_ingest(settings), counter(ingest_db, Document), seen) as http:
        answer = await http.post("/v1/documents", json={"filename": "a.txt", "text": "Năm 2023."})
    assert answer.status_code == 202, answer.text
    assert seen == [1]


@pytest.mark.parametrize("service", ["gateway", "indicators", "ingest"])
def test_every_service_commits_its_session_before_answering(service: str) -> None:
    # The upload test above shows what the default scope does; every service's session
    # dependency must be the one declared to end before the response.
    module = importlib.import_module(f"chiso_{service}.deps")
    (dependency,) = [m for m in typing.get_args(module.SessionDep) if hasattr(m, "scope")]
    assert dependency.scope == "function"
