"""Calls to ingest and indicators: timeouts and failures become 502/504, never a hang.

Three interchangeable clients sit behind `Sender` (`senders.create_sender` makes one):
httpx (the project's named client), aiohttp, which research and `bench/bench_gateway.py`
found much faster for a gateway hop under concurrency (httpx issue #3215), and the gateway's
own small HTTP/1.1 client (`http11`), faster again. `Settings.http_client` picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx
from pydantic_core import from_json

from chiso_shared.errors import BadGateway, ChisoError, GatewayTimeout
from chiso_shared.http import HttpClientSettings
from chiso_shared.request_id import REQUEST_ID_HEADER, current_request_id
from chiso_shared.service_auth import ServiceTokens

Params = Mapping[str, Any] | list[tuple[str, Any]] | None


class UpstreamTimeoutError(Exception):
    pass


class UpstreamUnreachableError(Exception):
    pass


@dataclass(frozen=True)
class UpstreamResponse:
    status_code: int
    headers: Mapping[str, str]  # case-insensitive in both clients
    content: bytes

    def json(self) -> Any:
        """The body parsed (pydantic-core's parser, faster than `json.loads`); ValueError if
        it is not JSON."""
        return from_json(self.content)


class Sender(Protocol):
    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...


class HttpxSender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        try:
            response = await self.client.request(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                files=files,
                data=data,
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTimeoutError from exc
        except httpx.TransportError as exc:
            raise UpstreamUnreachableError from exc
        return UpstreamResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


class AiohttpSender:
    """aiohttp with the same limits as the httpx factory, and the request id passed on."""

    def __init__(self, base_url: str, settings: HttpClientSettings) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=settings.pool_timeout + settings.connect_timeout,
                sock_connect=settings.connect_timeout,
                sock_read=settings.read_timeout,
            ),
            connector=aiohttp.TCPConnector(limit=settings.max_connections),
            auto_decompress=True,
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        outgoing = dict(headers or {})
        request_id = current_request_id()
        if request_id:
            outgoing.setdefault(REQUEST_ID_HEADER, request_id)
        body: Any = content
        if files is not None:
            body = _form(files, data or {})
        try:
            async with self.session.request(
                method,
                self.base_url + path,
                params=_params(params),
                json=json,
                data=body,
                headers=outgoing,
                allow_redirects=False,
            ) as response:
                payload = await response.read()
                return UpstreamResponse(response.status, response.headers, payload)
        except TimeoutError as exc:
            raise UpstreamTimeoutError from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachableError from exc

    async def aclose(self) -> None:
        await self.session.close()


def _params(params: Params) -> list[tuple[str, str]] | None:
    if params is None:
        return None
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(key), str(value)) for key, value in items]


def _form(files: dict[str, tuple[str, bytes, str]], fields: Mapping[str, str]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, (filename, content, content_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=content_type or None)
    for name, value in fields.items():
        form.add_field(name, value)
    return form


def service_credentials(
    tokens: ServiceTokens, audience: str, scopes: tuple[str, ...]
) -> Callable[[], Mapping[str, str]]:
    """The Authorization header for calls to `audience` (a token reused until near expiry)."""
    return lambda: tokens.headers(audience, scopes)


class UpstreamError(ChisoError):
    """An upstream answered with a problem of its own (4xx): passed on as it was."""

    def __init__(self, response: UpstreamResponse) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        super().__init__(
            str(body.get("detail") or f"upstream answered {response.status_code}"),
            code=str(body.get("code") or "gateway.upstream_rejected"),
        )
        self.status_code = response.status_code  # type: ignore[misc]
        self.body = body


class Upstream:
    def __init__(
        self,
        name: str,
        sender: Sender,
        credentials: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.name = name
        self.sender = sender
        # The service token header each call carries (`service_credentials`).
        self.credentials = credentials

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        if self.credentials is not None:
            headers = {**(headers or {}), **self.credentials()}
        try:
            response = await self.sender.send(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                files=files,
                data=data,
            )
        except UpstreamTimeoutError as exc:
            raise GatewayTimeout(
                f"The {self.name} service did not answer in time.",
                code="gateway.upstream_timeout",
                headers={"X-Gateway-Error": f"{self.name}:timeout"},
            ) from exc
        except UpstreamUnreachableError as exc:
            raise BadGateway(
                f"The {self.name} service cannot be reached.",
                code="gateway.upstream_unreachable",
                headers={"X-Gateway-Error": f"{self.name}:unreachable"},
            ) from exc
        if response.status_code >= 500:
            raise BadGateway(
                f"The {self.name} service failed ({response.status_code}).",
                code="gateway.upstream_error",
                headers={"X-Gateway-Error": f"{self.name}:{response.status_code}"},
            )
        if response.status_code in (401, 403):
            # The upstream refused the gateway's service token: a configuration fault of this
            # deployment (SERVICE_TOKEN_SECRET), not the caller's.
            raise BadGateway(
                f"The {self.name} service refused the gateway's credentials.",
                code="gateway.upstream_refused",
                headers={"X-Gateway-Error": f"{self.name}:{response.status_code}"},
            )
        if response.status_code >= 400:
            raise UpstreamError(response)
        return response

    async def ready(self) -> None:
        response = await self.sender.send("GET", "/healthz")
        if response.status_code != 200:
            raise RuntimeError(f"{self.name} answered {response.status_code}")

    async def aclose(self) -> None:
        await self.sender.aclose()
