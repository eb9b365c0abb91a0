"""An upload without a scope hint takes the area of the uploading client's agency, if that is a
province."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import bearer, gateway_settings
from tests.support import serving

pytestmark = pytest.mark.asyncio


def echo_ingest() -> FastAPI:
    """Stands in for ingest: answers an upload with the metadata it received."""
    app = FastAPI()

    @app.post("/v1/documents", status_code=202)
    async def upload(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            async with request.form() as form:
                received = {key: value for key, value in form.items() if isinstance(value, str)}
        else:
            received = json.loads(await request.body())
        return {"id": "00000000-0000-4000-8000-000000000000", "scope": received.get("scope")}

    return app


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str) -> Iterator[Settings]:
    with serving(echo_ingest()) as ingest_url:
        yield gateway_settings(tmp_path, gateway_db, "http://127.0.0.1:9", ingest_url=ingest_url)


@pytest.fixture
def gateway_url(settings: Settings) -> Iterator[str]:
    with serving(create_app(settings)) as url:
        yield url


async def create_client(settings: Settings, area: str) -> Any:
    from chiso_gateway.auth import clients
    from chiso_shared.db import create_engine, create_sessionmaker

    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            created = await clients.create(session, "so", ["documents:write"], area=area)
            await session.commit()
    finally:
        await engine.dispose()
    return created


async def scope_forwarded(url: str, headers: dict[str, str], kind: str, scope: str | None) -> Any:
    meta = {} if scope is None else {"scope": scope}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        if kind == "json":
            body = {"filename": "a.txt", "text": "Toàn tỉnh có 310 trạm BTS.", **meta}
            response = await http.post("/v1/documents", json=body, headers=headers)
        else:
            files = {"file": ("a.txt", "Toàn tỉnh có 310 trạm BTS.".encode(), "text/plain")}
            response = await http.post("/v1/documents", files=files, data=meta, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["data"]["scope"]


@pytest.mark.parametrize("kind", ["json", "multipart"])
async def test_the_agency_area_fills_a_missing_scope_only(
    gateway_url: str, settings: Settings, kind: str
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        hue = await bearer(http, await create_client(settings, "46"))
        nowhere = await bearer(http, await create_client(settings, ""))
        national = await bearer(http, await create_client(settings, "VN"))
    assert await scope_forwarded(gateway_url, hue, kind, None) == "VN-46"
    assert await scope_forwarded(gateway_url, hue, kind, "VN-38") == "VN-38"  # the upload's wins
    assert await scope_forwarded(gateway_url, nowhere, kind, None) is None
    # a national agency's upload of a provincial text that names no province: unknown scope,
    # never filed under the country
    assert await scope_forwarded(gateway_url, national, kind, None) is None
