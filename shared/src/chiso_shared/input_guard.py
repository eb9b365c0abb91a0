"""Text no service can store: refused at the door with a 400 rather than a 500 from the database.

PostgreSQL text cannot hold the NUL character (asyncpg raises on `\\x00` in a bound string), and
SQLite would store it where other tools cut strings at it. A NUL has no business in a path, a
query parameter or a form field, so it is refused before any route runs:

* `RefuseNulMiddleware` checks the decoded path and query string of every HTTP request, the
  body of a JSON request (where NUL can only be the escape `\\u0000`) and the body of a
  URL-encoded form (`%00`);
* `no_nul` is the check for values of other bodies (multipart form fields).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso_shared.errors import FieldError, problem_response

NUL = "\x00"
INVALID_CHARACTERS = "invalid_characters"
# `\u0000` not itself escaped: preceded by an even number of backslashes (`\\u0000` is a
# backslash and the text `u0000`). JSON forbids a raw NUL byte in a string already.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def no_nul(value: str) -> str:
    """A pydantic `AfterValidator`: refuses a string holding NUL (a 422 naming the field)."""
    if NUL in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


def _where(scope: Scope) -> str | None:
    """`path` or `query` when that part of the request holds an encoded or raw NUL."""
    path = scope.get("path", "")
    raw_path = scope.get("raw_path") or b""
    if NUL in path or b"\x00" in unquote_to_bytes(bytes(raw_path)):
        return "path"
    query = bytes(scope.get("query_string") or b"")
    # `+` is a space in a query string; only `%00` and a raw NUL byte decode to NUL.
    if b"\x00" in unquote_to_bytes(query):
        return "query"
    return None


def _media_type(scope: Scope) -> str:
    return Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


async def _read_body(receive: Receive) -> list[Message]:
    """Every message of a request body (the app reads them again from `_replay`)."""
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _body(messages: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")


def _json_holds_nul(body: bytes) -> bool:
    # The substring test is a fast scan; the pattern only runs on the rare body that has it.
    return b"u0000" in body and _JSON_NUL.search(body) is not None


def _form_holds_nul(body: bytes) -> bool:
    return b"\x00" in unquote_to_bytes(body)


_BODY_CHECKS = {"application/x-www-form-urlencoded": _form_holds_nul}


class RefuseNulMiddleware:
    """Pure ASGI middleware: a request whose path, query string, JSON or URL-encoded form body
    holds NUL gets a 400 `<namespace>.invalid_characters` problem and reaches no route,
    database or upstream. Such a body is read whole before the route runs (which reads it
    whole anyway; the streaming body limit outside this guard bounds it)."""

    def __init__(self, app: ASGIApp, namespace: str) -> None:
        self.app = app
        self.namespace = namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _where(scope)
        media = _media_type(scope)
        check = _json_holds_nul if _is_json(media) else _BODY_CHECKS.get(media)
        if where is None and check is not None:
            messages = await _read_body(receive)
            receive = _replay(messages, receive)
            where = "body" if check(_body(messages)) else None
        if where is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            Request(scope),
            status=400,
            code=f"{self.namespace}.{INVALID_CHARACTERS}",
            detail=f"The request {where} contains the NUL character (U+0000); nothing accepts it.",
            errors=[FieldError(field=where, message="contains NUL")],
        )
        await response(scope, receive, send)
