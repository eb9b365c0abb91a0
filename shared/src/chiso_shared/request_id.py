"""X-Request-ID: generated when absent, echoed on the response, passed on outbound calls."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso_shared.tracing import mark_request_id

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("chiso_request_id", default=None)
# Accept caller ids that are safe to log and echo; anything else is replaced.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI middleware, so the id is visible to every handler and background log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.lower().encode())
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else new_request_id()
        token = _request_id.set(request_id)
        mark_request_id(request_id)  # on the server span, when traces are exported

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
        # Reset only on success. An exception leaves this middleware before anything answers
        # it: Starlette's ServerErrorMiddleware (outside every user middleware) builds the 500
        # and the server logs the failure after we return. Both run later in this request's
        # own task, whose context ends with it, and must still see the id.
        _request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
