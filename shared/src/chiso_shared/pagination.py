"""Opaque cursors: keyset positions encoded as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URL

from chiso_shared.errors import BadRequest, FieldError
from chiso_shared.input_guard import NUL

# Keyset columns are INTEGER (32-bit on PostgreSQL) or text: a cursor value outside what its
# column holds would fail in the database driver (a 500) instead of being refused here.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def encode_cursor(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, kinds: Sequence[type[int] | type[str]], code: str) -> list[Any]:
    """The position inside `cursor`, one value of each of `kinds` in order, or a 400 naming
    `query.cursor` (a cursor is client input: any JSON may come back in it)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        position = None
    if not _fits(position, kinds):
        raise BadRequest(
            "The cursor is not one this service issued.",
            code=code,
            errors=[FieldError(field="query.cursor", message="invalid cursor")],
        )
    assert isinstance(position, list)
    return position


def _fits(position: object, kinds: Sequence[type[int] | type[str]]) -> bool:
    if not isinstance(position, list) or len(position) != len(kinds):
        return False
    return all(_is(value, kind) for value, kind in zip(position, kinds, strict=True))


def _is(value: object, kind: type[int] | type[str]) -> bool:
    if kind is int:
        # bool is an int in Python, not in SQL
        return type(value) is int and INT_MIN <= value <= INT_MAX
    return isinstance(value, str) and NUL not in value


# Paging headers of a page read: RFC 8288's Link to the next page, and the size of the whole
# selection, so that a client (or `requests`' `response.links`) can tell there is more.
LINK_HEADER = "Link"
TOTAL_COUNT_HEADER = "X-Total-Count"


def next_url(url: URL, cursor: str) -> str:
    """`url` (absolute, as the client asked it) with every query parameter kept and `cursor`
    set to the next page's."""
    return str(url.include_query_params(cursor=cursor))


def paging_headers(url: URL, next_cursor: str | None, total: int | None) -> dict[str, str]:
    """`Link: <next>; rel="next"` when a page follows, and `X-Total-Count` when it is known."""
    headers: dict[str, str] = {}
    if next_cursor:
        headers[LINK_HEADER] = f'<{next_url(url, next_cursor)}>; rel="next"'
    if total is not None:
        headers[TOTAL_COUNT_HEADER] = str(total)
    return headers
