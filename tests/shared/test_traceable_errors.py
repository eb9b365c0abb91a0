"""Every error answer of every service, and the log lines about it, carry the request id.

Each service is served by a real uvicorn (the server writes the access line and its own line
about an unhandled exception), with one extra route that fails unexpectedly and one that takes
an integer; the JSON log lines are captured from the root logger the services configure.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from chiso_shared.logging import JsonFormatter
from chiso_shared.request_id import REQUEST_ID_HEADER
from tests.support import free_port, fresh_database, serving

BOOM = "boom-7c1e: an unexpected failure"


def _gateway(tmp_path: Path, url: str) -> FastAPI:
    from chiso_gateway.main import create_app
    from tests.gateway.support import gateway_settings

    return create_app(gateway_settings(tmp_path, url, f"http://127.0.0.1:{free_port()}"))


def _ingest(tmp_path: Path, url: str) -> FastAPI:
    from chiso_ingest.main import create_app
    from chiso_ingest.settings import Settings

    return create_app(Settings(data_dir=tmp_path, database_url=url, run_worker=False))


def _indicators(tmp_path: Path, url: str) -> FastAPI:
    from chiso_indicators.main import create_app
    from chiso_indicators.settings import Settings

    return create_app(Settings(data_dir=tmp_path, database_url=url))


FACTORIES: dict[str, Callable[[Path, str], FastAPI]] = {
    "gateway": _gateway,
    "ingest": _ingest,
    "indicators": _indicators,
}


def _with_test_routes(app: FastAPI) -> FastAPI:
    async def boom() -> None:
        raise RuntimeError(BOOM)

    async def needs_int(n: int) -> dict[str, int]:
        return {"n": n}

    # First in the table, so no catch-all route of a service answers them instead.
    app.router.routes.insert(0, APIRoute("/test-only/boom", boom, methods=["GET"]))
    app.router.routes.insert(0, APIRoute("/test-only/needs-int", needs_int, methods=["GET"]))
    return app


@contextmanager
def served(app: FastAPI) -> Iterator[tuple[str, io.StringIO]]:
    """Serve `app`; collect the JSON lines its root logger writes until the server stopped."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    try:
        with serving(app) as base:
            root.addHandler(handler)  # after the lifespan installed the service's handler
            yield base, stream
    finally:
        root.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _assert_traced(response: httpx.Response, sent: str | None) -> str:
    echoed: str | None = response.headers.get(REQUEST_ID_HEADER)
    assert echoed, f"{response.status_code} without {REQUEST_ID_HEADER}"
    if sent is not None:
        assert echoed == sent
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["request_id"] == echoed
    return echoed


ROUTING_ERRORS = [
    ("GET", "/test-only/no-such-route", 404),
    ("DELETE", "/healthz", 405),
    ("GET", "/test-only/needs-int?n=abc", 422),
]


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_error_answers_and_their_log_lines_carry_the_request_id(
    service: str, tmp_path: Path
) -> None:
    answers: list[tuple[httpx.Response, str | None]] = []
    with fresh_database(tmp_path, service) as url:
        app = _with_test_routes(FACTORIES[service](tmp_path, url))
        with served(app) as (base, log):
            for sent in ("trace-500-a1b2", None):
                headers = {REQUEST_ID_HEADER: sent} if sent else {}
                answers.append((httpx.get(f"{base}/test-only/boom", headers=headers), sent))
            routing = [
                httpx.request(method, f"{base}{path}", headers={REQUEST_ID_HEADER: f"trace-{n}"})
                for n, (method, path, _status) in enumerate(ROUTING_ERRORS)
            ]
    # The server has stopped, so every line about these requests has been written.
    lines = _lines(log)
    failures = [line for line in lines if BOOM in line.get("exc", "")]
    boom_access = [line for line in lines if "/test-only/boom" in line["msg"]]
    for response, sent in answers:
        assert response.status_code == 500
        request_id = _assert_traced(response, sent)
        assert response.json()["code"] == f"{service}.internal"
        assert BOOM not in response.text  # the details go to the log, not to the caller
        about_it = [line for line in failures if line.get("request_id") == request_id]
        assert about_it, f"no log line of the failure carries {request_id}: {failures}"
        assert [line for line in boom_access if line.get("request_id") == request_id]
    # No line about a failure, and no access line, goes without its request id.
    assert len(failures) >= 2 and all(line.get("request_id") for line in failures), failures
    assert len(boom_access) == 2 and all(line.get("request_id") for line in boom_access)
    pairs = zip(ROUTING_ERRORS, routing, strict=True)
    for n, ((_method, path, status), response) in enumerate(pairs):
        assert response.status_code == status, response.text
        _assert_traced(response, f"trace-{n}")
        access = [line for line in lines if path.split("?")[0] in line["msg"]]
        assert [line.get("request_id") for line in access] == [f"trace-{n}"], access
