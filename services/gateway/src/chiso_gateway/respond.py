"""Answers for read routes: served from the response cache, with ETag/304 and Cache-Control."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from starlette.responses import Response

from chiso_gateway.cache import Cache, Payload, RevisionTracker, cache_key
from chiso_gateway.envelope import Envelope
from chiso_gateway.settings import Settings
from chiso_shared.responses import conditional

Language = Literal["vi", "en"]
Compute = Callable[[int | None], Awaitable[Payload]]


def language(request: Request) -> Language:
    """`vi` or `en` from Accept-Language (highest q wins, Vietnamese when neither is asked)."""
    best: tuple[float, Language] = (0.0, "vi")
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("vi", "en"):
            continue
        try:
            quality = float(params.strip().removeprefix("q=")) if params else 1.0
        except ValueError:
            quality = 0.0
        if quality > best[0]:
            best = (quality, "vi" if primary == "vi" else "en")
    return best[1]


def json_payload(envelope: Envelope[Any], revision: int | None) -> Payload:
    if revision is not None:
        envelope.meta.setdefault("data_revision", revision)
    body = json.dumps(
        jsonable_encoder(envelope), ensure_ascii=False, separators=(",", ":")
    ).encode()
    return Payload(body=body, media_type="application/json")


async def cached(
    request: Request,
    *,
    settings: Settings,
    cache: Cache | None,
    revision: RevisionTracker,
    compute: Compute,
) -> Response:
    """Serve `compute`'s answer through the cache keyed on the data revision and the URL."""
    current = await revision.current()
    lang = language(request)
    status = "BYPASS"
    payload: Payload | None = None
    key = ""
    if cache is not None and current is not None:
        # The host is in the key because answers carry absolute links.
        where = f"{request.url.netloc}{request.url.path}"
        key = cache_key(current, lang, where, request.query_params.multi_items())
        payload = await cache.get(key)
        status = "HIT" if payload is not None else "MISS"
    if payload is None:
        payload = await compute(current)
        small = len(payload.body) <= settings.cache_max_body_bytes
        if cache is not None and status == "MISS" and small:
            await cache.set(key, payload, settings.cache_ttl_seconds)
    age = settings.client_max_age_seconds
    headers = {
        **payload.headers,
        "X-Cache": status,
        "Content-Language": lang,
        "Vary": "Accept-Language, Authorization",
    }
    return conditional(
        request,
        payload.body,
        payload.media_type,
        headers=headers,
        cache_control=f"private, max-age={age}, stale-while-revalidate={age * 5}",
    )
