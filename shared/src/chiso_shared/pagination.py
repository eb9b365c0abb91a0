"""Opaque cursors: keyset positions encoded as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chiso_shared.errors import BadRequest, FieldError


def encode_cursor(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, size: int, code: str) -> list[Any]:
    """The position inside `cursor`, or a 400 naming `query.cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, list) or len(position) != size:
        raise BadRequest(
            "The cursor is not one this service issued.",
            code=code,
            errors=[FieldError(field="query.cursor", message="invalid cursor")],
        )
    return position
