"""Conditional responses: a strong ETag over the exact body, 304 when the client has it."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from starlette.responses import Response


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def conditional(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    headers: Mapping[str, str] | None = None,
    cache_control: str = "no-cache",
) -> Response:
    etag = etag_for(body)
    out = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if _matches(request, etag):
        return Response(status_code=304, headers=out)
    return Response(content=body, media_type=media_type, headers=out)


def conditional_json(
    request: Request, payload: Any, *, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(jsonable_encoder(payload), ensure_ascii=False, separators=(",", ":")).encode()
    return conditional(request, body, "application/json", headers=headers)


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return csv_lines(itertools.chain([columns], rows))


def csv_lines(rows: Iterable[Sequence[Any]]) -> bytes:
    """`rows` as CSV lines (UTF-8, `\\n`, None as empty): a whole file with a title row first,
    or one chunk of a streamed one."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue().encode("utf-8")
