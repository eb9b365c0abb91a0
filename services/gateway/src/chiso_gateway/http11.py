"""A small HTTP/1.1 client for the gateway's calls to ingest and indicators.

It does one thing: requests to one origin over a pool of keep-alive connections, the response
read whole, parsed by httptools (the parser uvicorn uses). Nothing else: no redirects, cookies,
proxies, decompression (it asks for none) or HTTP/2. In exchange a call costs less than a
general client's: in `bench/bench_gateway.py` the series hop through it measured 1.17x the
direct call in three runs, through aiohttp 1.21-1.23x (see the README). A body must be framed
by Content-Length or chunked encoding, as uvicorn's always are; one ended only by closing the
connection (HTTP/1.0 style) is reported as a lost connection.

Failures map to the `upstream` errors the gateway turns into 502/504: a connect, pool or read
timeout is `UpstreamTimeoutError`, a refused, reset or malformed exchange is
`UpstreamUnreachableError`. A kept-alive connection that the server closed while it sat idle
is caught before reuse or, for idempotent methods, retried once on a new connection.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httptools
import httpx
from pydantic_core import to_json

from chiso_gateway.upstream import (
    Params,
    UpstreamResponse,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from chiso_shared.http import HttpClientSettings
from chiso_shared.request_id import REQUEST_ID_HEADER, current_request_id

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Idle connections are dropped before servers usually drop them (uvicorn: 5 s), so that a
# request rarely meets a connection the server is closing.
IDLE_SECONDS = 4.0


class Headers(Mapping[str, str]):
    """Response headers, case-insensitive (repeated names joined with ", ")."""

    def __init__(self, pairs: list[tuple[bytes, bytes]]) -> None:
        self._values: dict[str, str] = {}
        for name, value in pairs:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            self._values[key] = f"{self._values[key]}, {text}" if key in self._values else text

    def __getitem__(self, key: str) -> str:
        return self._values[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class ConnectionLostError(Exception):
    def __init__(self, started: bool, cause: Exception | None) -> None:
        reason = f": {cause}" if cause else ""
        super().__init__(f"the connection closed before the response was complete{reason}")
        self.started = started  # whether any of the response had arrived


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its response parsed as it comes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[UpstreamResponse] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.started = False
        self.closed = False
        self.keep_alive = False
        self.idle_since = 0.0
        self.read_timeout = 0.0
        self.last_read = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            self.close()  # bytes nobody asked for: the connection's framing can't be trusted
            return
        self.started = True
        self.last_read = time.monotonic()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamUnreachableError(f"malformed response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLostError(self.started, exc))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self._stop_timer()
        # Asked here: once the message is done the parser resets and answers False.
        self.keep_alive = self.parser.should_keep_alive()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            waiter.set_result(UpstreamResponse(status, Headers(self.headers), b"".join(self.body)))

    # the client's side
    def start(self, request: bytes, read_timeout: float) -> asyncio.Future[UpstreamResponse]:
        """Send `request`; the future fails with UpstreamTimeoutError once nothing has arrived
        for `read_timeout` seconds (the rule of aiohttp's sock_read and httpx's read timeout),
        checked by one timer that moves on only when it fires."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.headers, self.body, self.started, self.keep_alive = [], [], False, False
        self.waiter = loop.create_future()
        self.read_timeout = read_timeout
        self.last_read = time.monotonic()
        self.timer = loop.call_at(loop.time() + read_timeout, self._check_timeout)
        self.transport.write(request)
        return self.waiter

    def reusable(self) -> bool:
        return not self.closed and self.keep_alive

    def close(self) -> None:
        self.closed = True
        self._stop_timer()
        if self.transport is not None:
            self.transport.close()

    def _check_timeout(self) -> None:
        remaining = self.last_read + self.read_timeout - time.monotonic()
        if remaining > 0:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_at(loop.time() + remaining, self._check_timeout)
            return
        self.timer = None
        self._fail(UpstreamTimeoutError("read timed out"))
        self.close()

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fail(self, exc: Exception) -> None:
        self._stop_timer()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class Http11Sender:
    """`upstream.Sender` over a pool of HTTP/1.1 keep-alive connections to one origin."""

    def __init__(self, base_url: str, settings: HttpClientSettings) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.authority = parts.netloc.rpartition("@")[2]
        self.prefix = parts.path.rstrip("/")
        self.tls = ssl.create_default_context() if parts.scheme == "https" else None
        self.settings = settings
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(settings.max_connections)

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
        request = self._request(method, path, params, json, content, headers, files, data)
        if self.slots.locked():
            try:
                async with asyncio.timeout(self.settings.pool_timeout):
                    await self.slots.acquire()
            except TimeoutError as exc:
                raise UpstreamTimeoutError("no free connection") from exc
        else:
            await self.slots.acquire()
        try:
            return await self._exchange(method, request)
        finally:
            self.slots.release()

    async def aclose(self) -> None:
        while self.idle:
            self.idle.pop().close()

    async def _exchange(self, method: str, request: bytes) -> UpstreamResponse:
        for attempt in range(2):
            connection, reused = await self._connection()
            try:
                response = await connection.start(request, self.settings.read_timeout)
            except ConnectionLostError as exc:
                # A kept-alive connection the server closed just as it was reused: the request
                # was never answered, so an idempotent one is safe to send again, once.
                if reused and not exc.started and method in IDEMPOTENT and attempt == 0:
                    continue
                raise UpstreamUnreachableError(str(exc)) from exc
            except BaseException:
                connection.close()  # timed out or cancelled mid-response: unusable
                raise
            if connection.reusable() and len(self.idle) < self.settings.max_keepalive_connections:
                connection.idle_since = time.monotonic()
                self.idle.append(connection)
            else:
                connection.close()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connection(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()  # the most recently used: warmest, least likely closed
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection, True
            connection.close()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                _, protocol = await loop.create_connection(
                    _Connection,
                    self.host,
                    self.port,
                    ssl=self.tls,
                    server_hostname=self.host if self.tls else None,
                )
        except TimeoutError as exc:
            raise UpstreamTimeoutError("connect timed out") from exc
        except OSError as exc:
            raise UpstreamUnreachableError(str(exc)) from exc
        return protocol, False

    def _request(
        self,
        method: str,
        path: str,
        params: Params,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        files: dict[str, tuple[str, bytes, str]] | None,
        data: Mapping[str, str] | None,
    ) -> bytes:
        if method == "HEAD":
            raise ValueError("HEAD is not supported: its response has no body to wait for")
        outgoing = {"Host": self.authority, **(headers or {})}
        request_id = current_request_id()
        if request_id:
            outgoing.setdefault(REQUEST_ID_HEADER, request_id)
        body = content
        if files is not None or data is not None:
            # httpx only as the encoder of multipart and form bodies: nothing is sent by it.
            encoded = httpx.Request(method, "http://upstream/", files=files, data=data)
            body = encoded.read()
            outgoing["Content-Type"] = encoded.headers["Content-Type"]
        elif json is not None:
            body = to_json(json)
            outgoing["Content-Type"] = "application/json"
        if body is not None or method in ("POST", "PUT", "PATCH"):
            outgoing["Content-Length"] = str(len(body or b""))
        target = quote(self.prefix + path, safe="/%:@!$&'()*+,;=-._~")
        if params:
            items = params.items() if isinstance(params, Mapping) else params
            target += "?" + urlencode([(str(k), str(v)) for k, v in items])
        lines = [f"{method} {target} HTTP/1.1"]
        for name, value in outgoing.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body if body else head
