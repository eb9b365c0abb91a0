"""Text no service can store: refused at the door with a 400 rather than a 500 from the database.

PostgreSQL text cannot hold the NUL character (asyncpg raises on `\\x00` in a bound string), and
SQLite would store it where other tools cut strings at it. A NUL has no business in a path, a
query parameter or a form field, so it is refused before any route runs:

* `RefuseNulMiddleware` checks the decoded path and query string of every HTTP request;
* `no_nul` is the check for values that arrive in a body (form fields, JSON strings).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from chiso_shared.errors import FieldError, problem_response

NUL = "\x00"
INVALID_CHARACTERS = "invalid_characters"


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


class RefuseNulMiddleware:
    """Pure ASGI middleware: a request whose path or query string holds NUL gets a 400
    `<namespace>.invalid_characters` problem and reaches no route, database or upstream."""

    def __init__(self, app: ASGIApp, namespace: str) -> None:
        self.app = app
        self.namespace = namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        where = _where(scope) if scope["type"] == "http" else None
        if where is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            Request(scope),
            status=400,
            code=f"{self.namespace}.{INVALID_CHARACTERS}",
            detail=f"The request {where} contains the NUL character (%00), which no field accepts.",
            errors=[FieldError(field=where, message="contains NUL")],
        )
        await response(scope, receive, send)
