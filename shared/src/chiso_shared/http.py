"""Outbound HTTP: one factory so every client has explicit limits and passes the request id
and the W3C trace context on."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, Field

from chiso_shared.request_id import REQUEST_ID_HEADER, current_request_id
from chiso_shared.tracing import inject_trace_context


class HttpClientSettings(BaseModel):
    connect_timeout: float = Field(default=2.0, gt=0, description="Seconds to connect.")
    read_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for a reply.")
    write_timeout: float = Field(default=10.0, gt=0)
    pool_timeout: float = Field(default=2.0, gt=0, description="Seconds to wait for a slot.")
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=20, ge=0)


async def _add_context(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
    # With export on, the httpx instrumentation (`Tracing.instrument_httpx`) replaces this with
    # its client span's context; with it off, the caller's context goes on as it came.
    inject_trace_context(request.headers)


def create_http_client(
    settings: HttpClientSettings | None = None,
    *,
    base_url: str = "",
    transport: httpx.AsyncBaseTransport | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    settings = settings or HttpClientSettings()
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.write_timeout,
            pool=settings.pool_timeout,
        ),
        limits=httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_keepalive_connections,
        ),
        event_hooks={"request": [_add_context]},
        transport=transport,
        auth=auth,
        follow_redirects=False,
    )
