"""Calls to ingest and indicators over aiohttp: failures become 502/504, never a hang or a 500.

aiohttp is the gateway's one client for this hop: well kept, and within a few hundredths of a
millisecond of the small client the gateway once had of its own (`bench/bench_gateway.py`),
which had parser and pool bugs a maintained client does not. httpx, the project's client
elsewhere, collapses under concurrency in a gateway hop (httpx issue #3215).

What an upstream answers is bounded (`UPSTREAM_MAX_*` settings): a status or header line, a
header field, the number of headers and the body. Anything over a bound, a malformed answer, a
redirect (never followed) and a 5xx are a 502; a 4xx is the upstream's own problem, passed on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDictProxy
from pydantic_core import from_json
from yarl import URL

from chiso_gateway.metrics import GatewayMetrics
from chiso_gateway.settings import Settings
from chiso_shared.errors import BadGateway, BadRequest, ChisoError, FieldError, GatewayTimeout
from chiso_shared.request_id import REQUEST_ID_HEADER, current_request_id
from chiso_shared.service_auth import READ_METHODS, ServiceTokens
from chiso_shared.tracing import Tracing, inject_trace_context

Params = Mapping[str, Any] | list[tuple[str, Any]] | None
logger = logging.getLogger("chiso.gateway.upstream")
DOT_SEGMENTS = ("", ".", "..")


def upstream_path(*segments: str) -> str:
    """`/a/b/c` from decoded segments, each percent-encoded whole, so that client input stays
    the one segment it was: a `/`, `?`, `#` or `%` in it cannot reach another path or add a
    query. Empty and dot segments are refused (400): a client resolves `..` before sending, so
    `/sdmx/../v1/revision` would reach indicators' `/v1/revision`."""
    if any(segment in DOT_SEGMENTS for segment in segments):
        raise BadRequest("A path segment may not be empty, '.' or '..'.", code="gateway.bad_path")
    return "".join("/" + quote(segment, safe="") for segment in segments)


@dataclass(frozen=True)
class UpstreamResponse:
    status_code: int
    headers: CIMultiDictProxy[str]  # case-insensitive
    content: bytes

    def json(self) -> Any:
        """The body parsed (pydantic-core's parser, faster than `json.loads`); ValueError if
        it is not JSON."""
        return from_json(self.content)


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
            errors=_field_errors(body.get("errors")),
        )
        self.status_code = response.status_code  # type: ignore[misc]
        self.body = body


def _field_errors(errors: object) -> list[FieldError]:
    """The upstream problem's field errors, passed on so the caller learns which field is
    wrong; anything not shaped as one is left out."""
    if not isinstance(errors, list):
        return []
    found = []
    for error in errors[:100]:
        try:
            found.append(FieldError.model_validate(error))
        except ValueError:
            continue
    return found


class _TooLargeError(Exception):
    pass


class Upstream:
    """One upstream service: a pooled aiohttp session to its base URL, with the gateway's
    timeouts and response limits, passing the request id on."""

    def __init__(
        self,
        name: str,
        base_url: str,
        settings: Settings,
        credentials: Callable[[], Mapping[str, str]] | None = None,
        write_credentials: Callable[[], Mapping[str, str]] | None = None,
        metrics: GatewayMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.name = name
        self.metrics = metrics  # counts failures by kind (chiso_gateway_upstream_errors)
        # The service token header each call carries (`service_credentials`); a call that
        # writes (any method but GET, HEAD, OPTIONS) carries `write_credentials` when given, so
        # the token of a read grants no write (the forwarded reads cannot write by mistake).
        self.credentials = credentials
        self.write_credentials = write_credentials or credentials
        self.base_url = base_url.rstrip("/")
        self.max_body = settings.upstream_max_body_bytes
        http = settings.http
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=http.pool_timeout + http.connect_timeout,  # a pool slot, then connect
                sock_connect=http.connect_timeout,
                sock_read=http.read_timeout,
            ),
            connector=aiohttp.TCPConnector(
                limit=http.max_connections,
                keepalive_timeout=settings.upstream_keepalive_seconds,
            ),
            max_line_size=settings.upstream_max_line_bytes,
            max_field_size=settings.upstream_max_field_bytes,
            max_headers=settings.upstream_max_headers,
            trace_configs=_trace_configs(tracing),
        )

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
        """`path` is already encoded (`upstream_path` builds one from client input)."""
        credentials = self.credentials if method.upper() in READ_METHODS else self.write_credentials
        if credentials is not None:
            headers = {**(headers or {}), **credentials()}
        response = await self._send(method, path, params, json, content, headers, files, data)
        self._check(response)
        return response

    def _check(self, response: UpstreamResponse) -> None:
        """Nothing for a 2xx; otherwise the error the gateway answers in its place."""
        status = response.status_code
        if status in (401, 403):
            self._count("refused")
            # The upstream refused the gateway's service token: a configuration fault of this
            # deployment (SERVICE_TOKEN_SECRET), not the caller's.
            raise BadGateway(
                f"The {self.name} service refused the gateway's credentials.",
                code="gateway.upstream_refused",
                headers={"X-Gateway-Error": f"{self.name}:{status}"},
            )
        if 400 <= status < 500:
            raise UpstreamError(response)
        if not 200 <= status < 300:
            # 5xx, and a redirect (not followed) or an interim answer as final: none is data.
            kind = "redirect" if 300 <= status < 400 else "error"
            self._count("redirect" if kind == "redirect" else "5xx")
            raise BadGateway(
                f"The {self.name} service failed ({status}).",
                code=f"gateway.upstream_{kind}",
                headers={"X-Gateway-Error": f"{self.name}:{status}"},
            )

    async def stream(
        self, path: str, *, params: Params = None, headers: Mapping[str, str] | None = None
    ) -> UpstreamStream:
        """A GET whose body is passed on as it arrives, not read whole (a bulk export may be
        larger than `UPSTREAM_MAX_BODY_BYTES`): its status and headers are checked as
        `request` checks them (an error answer is read, bounded, and raised), and its body
        is `UpstreamStream.chunks`, which the caller must consume or `aclose`."""
        outgoing = self._headers(
            {**(headers or {}), **(self.credentials() if self.credentials else {})}
        )
        try:
            response = await self.session.get(
                URL(self.base_url + path, encoded=True),
                params=_params(params),
                headers=outgoing,
                allow_redirects=False,
            )
        except TimeoutError as exc:
            raise self._failure(504, "timeout", "did not answer in time") from exc
        except aiohttp.ClientResponseError as exc:
            raise self._failure(502, "invalid", "answered what cannot be read") from exc
        except aiohttp.ClientError as exc:
            raise self._failure(502, "unreachable", "cannot be reached") from exc
        if 200 <= response.status < 300:
            return UpstreamStream(self.name, response, self._count)
        try:
            payload = await self._read(response)
        except (aiohttp.ClientError, _TooLargeError, TimeoutError):
            payload = b""
        finally:
            response.release()
        self._check(UpstreamResponse(response.status, response.headers, payload))
        raise AssertionError("unreachable: _check raises for a status that is not 2xx")

    def _headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        """What every call sends besides its own headers: identity encoding, the request id and
        the W3C trace context (with export on, the client span's, set by the instrumentation).

        The hop to another chiso service is local: compressing and inflating every answer
        (aiohttp asks for gzip by default) would cost more than it saves; the gateway
        compresses what it sends its own callers.
        """
        outgoing = {"Accept-Encoding": "identity", **(headers or {})}
        request_id = current_request_id()
        if request_id:
            outgoing.setdefault(REQUEST_ID_HEADER, request_id)
        inject_trace_context(outgoing)
        return outgoing

    async def _send(
        self,
        method: str,
        path: str,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        outgoing = self._headers(headers)
        body: Any = _form(files, data or {}) if files is not None else content
        try:
            async with self.session.request(
                method,
                URL(self.base_url + path, encoded=True),  # no re-quoting, no dot resolution
                params=_params(params),
                json=json,
                data=body,
                headers=outgoing,
                allow_redirects=False,
            ) as response:
                payload = await self._read(response)
                return UpstreamResponse(response.status, response.headers, payload)
        except TimeoutError as exc:
            raise self._failure(504, "timeout", "did not answer in time") from exc
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError, _TooLargeError) as exc:
            # A status line, header or body aiohttp refused (malformed or over a limit).
            raise self._failure(502, "invalid", "answered what cannot be read") from exc
        except aiohttp.ClientError as exc:
            raise self._failure(502, "unreachable", "cannot be reached") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, or `_TooLargeError` past `max_body` bytes (declared or received)."""
        declared = response.content_length
        if declared is not None:
            if declared > self.max_body:
                raise _TooLargeError
            return await response.read()
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_body:
                raise _TooLargeError
            chunks.append(chunk)
        return b"".join(chunks)

    def _failure(self, status: int, kind: str, what: str) -> ChisoError:
        self._count(kind)
        error = GatewayTimeout if status == 504 else BadGateway
        return error(
            f"The {self.name} service {what}.",
            code=f"gateway.upstream_{kind}",
            headers={"X-Gateway-Error": f"{self.name}:{kind}"},
        )

    def _count(self, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.upstream_error(self.name, kind)

    async def ready(self) -> None:
        response = await self._send("GET", "/healthz")
        if response.status_code != 200:
            raise RuntimeError(f"{self.name} answered {response.status_code}")

    async def aclose(self) -> None:
        await self.session.close()


class UpstreamStream:
    """A 2xx answer whose body is read chunk by chunk as the gateway passes it on."""

    def __init__(
        self,
        name: str,
        response: aiohttp.ClientResponse,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.count = count  # counts a body cut off mid-way (kind `interrupted`)
        self.response = response
        self.headers = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives. When the upstream fails mid-way the error is logged and
        raised, so the server ends the answer without its final chunk: the client sees an
        incomplete transfer, never a shorter file that looks whole."""
        try:
            async for chunk in self.response.content.iter_chunked(64 * 1024):
                yield chunk
        except (aiohttp.ClientError, TimeoutError):
            logger.warning("upstream stream broke", extra={"upstream": self.name})
            if self.count is not None:
                self.count("interrupted")
            raise
        finally:
            self.response.release()

    async def aclose(self) -> None:
        self.response.release()


def _trace_configs(tracing: Tracing | None) -> list[aiohttp.TraceConfig] | None:
    """A client span per call when the gateway exports traces; none otherwise."""
    if tracing is None or tracing.provider is None:
        return None
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config
    from opentelemetry.metrics import NoOpMeterProvider

    return [
        create_trace_config(tracer_provider=tracing.provider, meter_provider=NoOpMeterProvider())
    ]


def _params(params: Params) -> list[tuple[str, str]] | None:
    if params is None:
        return None
    items: Iterable[tuple[str, Any]] = params.items() if isinstance(params, Mapping) else params
    return [(str(key), str(value)) for key, value in items]


def _form(files: dict[str, tuple[str, bytes, str]], fields: Mapping[str, str]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, (filename, content, content_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=content_type or None)
    for name, value in fields.items():
        form.add_field(name, value)
    return form
