"""Per-request work around every route: quota headers on the answer, and one queued audit row."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso_gateway.audit import AuditEntry, AuditWriter
from chiso_shared.docs import STATIC_PATH
from chiso_shared.request_id import current_request_id

# Probes; the web app's page and files (`web.router`): no API call, no client to name; and
# the docs pages' scripts and stylesheet: the same public bytes for every caller, several per
# page view, telling nothing about who read what. The docs pages themselves (/docs, /redoc)
# are audited like /openapi.json.
UNAUDITED = frozenset({"/healthz", "/readyz", "/"})
UNAUDITED_PREFIXES = (STATIC_PATH + "/", "/app/")
logger = logging.getLogger("chiso.gateway.audit")


def _header(scope: Scope, name: bytes, limit: int) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            text = bytes(value).decode("utf-8", "replace")
            return "".join(ch for ch in text if ch.isprintable())[:limit]
    return ""


def _unaudited(path: str) -> bool:
    return path in UNAUDITED or path.startswith(UNAUDITED_PREFIXES)


class GatewayMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _unaudited(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        request_hash = hashlib.sha256(f"{scope['method']} {scope['path']}?{query}\n".encode())
        response_hash = hashlib.sha256()
        status = 500

        writer = state.get("audit")
        queued = False

        async def audit() -> None:
            # Queued before the last byte goes out, so a caller who has the answer can
            # count on its row (`AuditWriter.flush` makes it readable).
            nonlocal queued
            if not queued and isinstance(writer, AuditWriter):
                queued = True
                await writer.append(
                    self._entry(scope, state, status, started, request_hash, response_hash)
                )

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_hash.update(message.get("body", b""))
            return message

        async def decorating_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                quota = state.get("quota_headers")
                if quota:
                    headers = MutableHeaders(scope=message)
                    for name, value in quota.items():
                        headers.setdefault(name, value)
            elif message["type"] == "http.response.body":
                response_hash.update(message.get("body", b""))
                if not message.get("more_body", False):
                    await audit()
            await send(message)

        try:
            await self.app(scope, hashing_receive, decorating_send)
        finally:
            await audit()  # the app failed before it answered

    @staticmethod
    def _entry(
        scope: Scope,
        state: dict[str, Any],
        status: int,
        started: float,
        request_hash: Any,
        response_hash: Any,
    ) -> AuditEntry:
        principal = state.get("principal")
        route = scope.get("route")
        return AuditEntry(
            ts=datetime.now(UTC),
            request_id=current_request_id() or "",
            client_id=getattr(principal, "client_id", "") or state.get("audit_client", ""),
            org=getattr(principal, "org", "") or state.get("audit_org", ""),
            # An external IdP's token names its verified subject; the header is the client's say
            user_id=_header(scope, b"x-user-id", 128) or getattr(principal, "subject", "")[:128],
            purpose=_header(scope, b"x-purpose", 200),
            token_id=getattr(principal, "token_id", ""),
            method=str(scope["method"])[:10],
            route=str(getattr(route, "path", "") or "(unmatched)")[:300],
            status=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            request_hash=request_hash.hexdigest(),
            response_hash=response_hash.hexdigest(),
            subject=str(state.get("audit_subject", ""))[:300],
        )
