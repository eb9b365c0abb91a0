"""Request body limits, enforced while the body streams in.

Checking only a declared `Content-Length` let a `Transfer-Encoding: chunked` body through
whole: the gateway buffered it and forwarded it before ingest said 413. This middleware counts
the bytes of every request's body as the application reads them; a declared length over the
limit is refused before anything is read, and a body that passes the limit while it streams
is refused the moment it does, so the gateway never holds more than the limit plus one chunk
and never forwards any of it. It covers every route: the upload's limit for
`POST /v1/documents`, a small one for everything else (token and revoke forms, and bodies sent
where none is read).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso_gateway.settings import Settings
from chiso_shared.errors import problem_response

UPLOAD_PATH = "/v1/documents"


class BodyTooLarge(Exception):
    """Raised into the application's `receive` once the body passes its limit."""


def upload_body_limit(settings: Settings) -> int:
    """Bytes an upload request may have: the document base64-encoded in JSON (4/3 of it),
    plus room for the multipart framing and the metadata fields."""
    return settings.max_upload_bytes * 4 // 3 + 65536


def gateway_limits(settings: Settings) -> Callable[[Scope], int]:
    upload = upload_body_limit(settings)

    def limit(scope: Scope) -> int:
        return upload if scope["path"] == UPLOAD_PATH else settings.max_body_bytes

    return limit


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        received = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            if over:  # the application caught the first refusal and reads on
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the application's answer to a read it could not finish; ours goes
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # FastAPI turns a failed form read into a 400, others fail the route: either way
            # the cause is ours to answer, unless the answer had already begun.
            if not over or started:
                raise
        if over and not started:
            await _refuse(scope, send, limit)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    response = problem_response(
        Request(scope),
        status=413,
        code="gateway.too_large",
        detail=f"The request body may be at most {limit} bytes on this route.",
    )
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
