"""The series read served ahead of FastAPI (`fast_reads`) answers exactly as the route does:
the same statuses, bodies and headers for successes, refusals and upstream failures, and the
same audit rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Request
from starlette.responses import Response

from chiso_gateway import audit, fast_reads
from chiso_gateway.main import create_app
from chiso_gateway.views import indicators as indicator_views
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import bearer, gateway_settings, new_client, post_facts
from tests.support import fact, free_port, running, serving

pytestmark = pytest.mark.asyncio
SERIES = "/v1/indicators/telecom.subscribers.total/series"
HEADERS = ("content-type", "etag", "cache-control", "x-cache", "www-authenticate", "vary")


@pytest.fixture
def indicators_url(tmp_path: Path, indicators_db: str) -> Iterator[str]:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(settings)) as url:
        for year in (2022, 2023):
            post_facts(
                url,
                fact(doc=f"nghe-an-{year}.txt", period=str(year), value=3_000_000 + year),
                published=f"{year}-12-31",
            )
        yield url


def answer(response: httpx.Response) -> tuple[Any, ...]:
    body: Any = response.content
    if response.headers.get("content-type", "").endswith("json"):
        body = response.json()
        body.pop("request_id", None)  # a new one per request
    return (response.status_code, body, *(response.headers.get(name) for name in HEADERS))


async def answers(tmp_path: Path, db: str, upstream: str, *, fast: bool) -> list[tuple[Any, ...]]:
    settings = gateway_settings(tmp_path / str(fast), db, upstream, fast_reads=fast)
    found: list[tuple[Any, ...]] = []
    async with running(create_app(settings)) as gateway:
        earlier = len(await audit_rows(settings.resolved_database_url()))  # the DB is shared
        reader = await bearer(gateway, await new_client(settings, ["indicators:read"]))
        other = await bearer(gateway, await new_client(settings, ["catalog:read"]))
        requests: list[tuple[str, dict[str, str]]] = [
            (f"{SERIES}?area=40", reader),
            (f"{SERIES}?area=40&from=2023&to=2023&measure=actual", reader),
            (f"{SERIES}?area=40", {}),  # no token: 401
            (f"{SERIES}?area=40", {"Authorization": "Bearer not-a-jwt"}),  # 401
            (f"{SERIES}?area=40", other),  # no indicators:read: 403
            ("/v1/indicators/no.such.code/series?area=40", reader),  # 404
            (f"{SERIES}?area=Nghe-An", reader),  # 422
            (SERIES, reader),  # 422: area missing
        ]
        for path, headers in requests:
            found.append(answer(await gateway.get(path, headers=headers)))
        first = await gateway.get(f"{SERIES}?area=40", headers=reader)
        if first.status_code == 200:
            again = {**reader, "If-None-Match": first.headers["etag"]}
            found.append(answer(await gateway.get(f"{SERIES}?area=40", headers=again)))
    rows = (await audit_rows(settings.resolved_database_url()))[earlier:]
    found.append(tuple((row.route, row.status) for row in rows if "series" in row.route))
    return found


async def audit_rows(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await audit.page(session, after_id=0, limit=1000))
    finally:
        await engine.dispose()


async def test_the_fast_path_answers_as_the_route_does(
    tmp_path: Path, gateway_db: str, indicators_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[str] = []
    original = indicator_views.series_answer

    async def spy(request: Request, *args: Any) -> Response:
        served.append(request.url.path)
        return await original(request, *args)

    monkeypatch.setattr(fast_reads, "series_answer", spy)
    fast = await answers(tmp_path, gateway_db, indicators_url, fast=True)
    assert len(served) == 5  # the 200s, the 404 and the 304; refusals come before the answer
    ordinary = await answers(tmp_path, gateway_db, indicators_url, fast=False)
    assert len(served) == 5  # the ordinary route does not go through the fast path
    statuses = [row[0] for row in fast[:-1]]
    assert statuses == [200, 200, 401, 401, 403, 404, 422, 422, 304]
    assert fast == ordinary
    assert {route for route, _ in fast[-1]} == {"/v1/indicators/{code}/series"}


async def test_a_down_upstream_is_the_same_502_on_both_paths(
    tmp_path: Path, gateway_db: str
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    fast = await answers(tmp_path, gateway_db, down, fast=True)
    ordinary = await answers(tmp_path, gateway_db, down, fast=False)
    assert [row[0] for row in fast[:2]] == [502, 502]
    assert fast == ordinary
