"""A cap on request bodies, enforced while they stream in.

A `Content-Length` check alone is bypassed by `Transfer-Encoding: chunked`, which declares no
length: a route that reads the body (a form parser, `request.json()`) would take all of it
before any size check ran. This pure ASGI middleware counts the bytes as the app receives them:

- a declared `Content-Length` over the limit is answered 413 before anything is read;
- once the bytes received pass the limit, the app's next `receive` raises `BodyTooLarge`, the
  app reads no more of the body, and the client gets a 413 problem+json answer at once
  (whatever the app made of the exception: a parser's 400 or a 500 is replaced, since its
  response had not started). Nothing past the limit is buffered.

Usage: `app.add_middleware(BodyLimitMiddleware, max_bytes=..., namespace="ingest")`, added
before `RequestIdMiddleware` so the refusal carries the request id. `max_bytes` is one limit for
every route, or a function of the request's scope that gives each route its own (the gateway's
upload takes more than its token form).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso_shared.errors import problem_response

LimitFor = Callable[[Scope], int]


# Room beyond the document itself in an upload request: multipart framing, metadata fields.
UPLOAD_OVERHEAD_BYTES = 65536


def upload_request_bytes(max_upload_bytes: int) -> int:
    """Bytes an upload request may have for a document of `max_upload_bytes`: the document
    base64-encoded in JSON (4/3 of it), plus room for the framing and the metadata. The
    gateway and ingest must agree on it, or one would refuse what the other lets through."""
    return max_upload_bytes * 4 // 3 + UPLOAD_OVERHEAD_BYTES


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes the limit: the app must stop reading it."""


class BodyLimitMiddleware:
    """Refuse with 413 any request whose body is longer than `max_bytes`, declared or not."""

    def __init__(self, app: ASGIApp, *, max_bytes: int | LimitFor, namespace: str) -> None:
        if isinstance(max_bytes, int) and max_bytes < 0:
            raise ValueError("max_bytes must be 0 or more")
        self.app = app
        self.limit_for: LimitFor = max_bytes if callable(max_bytes) else _fixed(max_bytes)
        self.code = f"{namespace}.too_large"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, f"The request body is {declared} bytes", limit)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a cut-off body; the 413 below replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # A form parser turns the refused read into a 400, other routes fail: either way
            # the cause is ours to answer, unless the answer had already begun.
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, send, f"The request body passed {limit} bytes", limit)

    async def _refuse(self, scope: Scope, send: Send, what: str, limit: int) -> None:
        response = problem_response(
            Request(scope),
            status=413,
            code=self.code,
            detail=f"{what}; requests to this route may be at most {limit} bytes.",
        )
        # No `Connection: close`: the server (uvicorn) then discards the rest of the body as
        # it arrives instead of resetting the connection, so a client that reads only after
        # sending all of it (most HTTP/1.1 clients) still gets this answer.
        await response(scope, _no_receive, send)


def _fixed(limit: int) -> LimitFor:
    return lambda _scope: limit


async def _no_receive() -> Message:
    raise BodyTooLarge  # the refusal never reads the body


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            text = bytes(value).decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
