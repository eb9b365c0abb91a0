"""Answers for read routes: served from the response cache, with ETag/304 and Cache-Control."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.request import parse_http_list

from fastapi import Request
from pydantic_core import to_json
from starlette.responses import Response

from chiso_gateway.cache import Payload, answer_digest, stale_key
from chiso_gateway.deps import Reads
from chiso_gateway.envelope import Envelope
from chiso_gateway.metrics import gateway_metrics
from chiso_gateway.settings import Settings
from chiso_shared.errors import BadGateway, GatewayTimeout
from chiso_shared.languages import Language as Language  # re-exported for the views
from chiso_shared.languages import preferred_language
from chiso_shared.responses import conditional

Compute = Callable[[int | None], Awaitable[Payload]]
# Marks an answer served from the last good copy because indicators failed (with `Age`).
STALE_HEADER = "X-Chiso-Stale"
logger = logging.getLogger("chiso.gateway.cache")


def language(request: Request) -> Language:
    """`vi` or `en` from Accept-Language (highest q wins, Vietnamese when neither is asked)."""
    return preferred_language(request.headers.get("accept-language"))


def json_payload(envelope: Envelope[Any], revision: int | None) -> Payload:
    """The envelope as compact UTF-8 JSON, written by pydantic-core in one pass.

    Walking every value with `jsonable_encoder` and then `json.dumps` cost more than all the
    rest of a series request; pydantic-core writes plain values, models and dates directly.
    """
    if revision is not None:
        envelope.meta.setdefault("data_revision", revision)
    body = to_json({"data": envelope.data, "meta": envelope.meta, "links": envelope.links})
    return Payload(body=body, media_type="application/json")


def spliced_payload(
    envelope: Envelope[dict[str, Any]], field: str, raw: bytes, revision: int | None
) -> Payload:
    """`json_payload` with `raw`, JSON written elsewhere (an upstream's array), as the last
    field of `data`: spliced in as it is rather than parsed and written again."""
    if revision is not None:
        envelope.meta.setdefault("data_revision", revision)
    head = to_json(envelope.data)  # a JSON object: b"{...}"
    data = head[:-1] + (b"," if envelope.data else b"") + to_json(field) + b":" + raw + b"}"
    body = (
        b'{"data":'
        + data
        + b',"meta":'
        + to_json(envelope.meta)
        + b',"links":'
        + to_json(envelope.links)
        + b"}"
    )
    return Payload(body=body, media_type="application/json")


def _accept(request: Request) -> str:
    """The Accept header in one spelling (case and spaces dropped), for the cache key."""
    return "".join(request.headers.get("accept", "").lower().split())


async def cached(
    request: Request, reads: Reads, compute: Compute, *, by_accept: bool = False
) -> Response:
    """Serve `compute`'s answer through the cache keyed on the data revision and the URL, and
    on the Accept header when the answer's representation follows it (`by_accept`).

    When indicators fails (unreachable, timeout, 5xx: a 502/504), the last good answer to the
    same request, kept `STALE_IF_ERROR_SECONDS`, is served instead, marked stale (`_stale`),
    unless the caller refuses stale answers (`stale_limit`). Auth, quota and audit are those
    of any answer: this runs inside them."""
    settings, cache = reads.settings, reads.cache
    lang = language(request)
    digest = ""
    if cache is not None:
        # The host is in the key because answers carry absolute links.
        digest = answer_digest(
            language=lang,
            accept=_accept(request) if by_accept else "",
            where=f"{request.url.netloc}{request.url.path}",
            query=request.query_params.multi_items(),
        )
    try:
        current = await reads.revision.current()
        if current is None and reads.revision.outage is not None:
            # Indicators failed its last revision check moments ago: a stale answer now
            # rather than another wait on it.
            stale = await _stale(request, reads, digest, reads.revision.outage, by_accept)
            if stale is not None:
                count_cache(request, "STALE")
                return stale
        payload, status = await _fresh(reads, compute, current, digest)
    except (BadGateway, GatewayTimeout) as exc:
        stale = await _stale(request, reads, digest, exc, by_accept)
        if stale is None:
            raise
        count_cache(request, "STALE")
        return stale
    count_cache(request, status)
    age = settings.client_max_age_seconds
    stale_if_error = (
        f", stale-if-error={settings.stale_if_error_seconds}"
        if cache is not None and settings.stale_if_error_seconds
        else ""
    )
    headers = {
        **payload.headers,
        "X-Cache": status,
        "Content-Language": lang,
        "Vary": _vary(by_accept),
    }
    return conditional(
        request,
        payload.body,
        payload.media_type,
        headers=headers,
        cache_control=f"private, max-age={age}, stale-while-revalidate={age * 5}{stale_if_error}",
    )


def _vary(by_accept: bool) -> str:
    return ("Accept, " if by_accept else "") + "Accept-Language, Authorization"


async def _fresh(
    reads: Reads, compute: Compute, current: int | None, digest: str
) -> tuple[Payload, str]:
    """The answer at revision `current`, from the cache or computed (and then cached), and
    its X-Cache status."""
    settings, cache = reads.settings, reads.cache
    if cache is None:
        return await compute(current), "BYPASS"
    key = f"{current}:{digest}"
    if current is not None:
        payload = await cache.get(key)
        if payload is not None:
            return payload, "HIT"
    payload = await compute(current)
    if len(payload.body) <= settings.cache_max_body_bytes:
        if current is not None:
            await cache.set(key, payload, settings.cache_ttl_seconds)
        if settings.stale_if_error_seconds:
            kept = replace(payload, stored_at=time.time())
            await cache.set(stale_key(digest), kept, settings.stale_if_error_seconds)
    return payload, "MISS" if current is not None else "BYPASS"


def stale_limit(request: Request, settings: Settings) -> int:
    """How old (seconds) a stale answer this caller accepts may be: `STALE_IF_ERROR_SECONDS`,
    bounded by the request's `Cache-Control`: `no-cache` refuses stale answers (the caller
    wants one validated by indicators), `max-stale=N` and `stale-if-error=N` (RFC 9111,
    RFC 5861) allow them up to N seconds old (a bare `max-stale` leaves the gateway's limit)."""
    limit = settings.stale_if_error_seconds
    for directive in parse_http_list(request.headers.get("cache-control", "")):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name == "no-cache":
            return 0
        if name in ("max-stale", "stale-if-error") and value:
            seconds = value.strip().strip('"')
            if seconds.isdigit():  # a malformed value is ignored, as RFC 9111 asks
                limit = min(limit, int(seconds))
    return limit


async def _stale(
    request: Request,
    reads: Reads,
    digest: str,
    failure: BadGateway | GatewayTimeout,
    by_accept: bool,
) -> Response | None:
    """The last good answer to this request, marked stale, or None when there is none young
    enough (or the caller refuses one)."""
    cache = reads.cache
    limit = stale_limit(request, reads.settings)
    if cache is None or limit <= 0:
        return None
    payload = await cache.get(stale_key(digest))
    if payload is None:
        return None
    age = max(0, int(time.time() - payload.stored_at))
    if age > limit:
        return None
    # info, not a warning: during an outage every read may come here (the revision tracker
    # warns once when indicators stops answering, and /readyz reports it)
    logger.info(
        "served a stale answer",
        extra={"upstream_error": failure.code, "age_seconds": age, "path": request.url.path},
    )
    headers = {
        **payload.headers,
        "X-Cache": "STALE",
        STALE_HEADER: "true",
        "Age": str(age),
        "Content-Language": language(request),
        "Vary": _vary(by_accept),
        **{k: v for k, v in failure.headers.items() if k == "X-Gateway-Error"},
    }
    # Not to be reused without asking again: the caller gets a fresh answer as soon as
    # indicators answers.
    return conditional(
        request,
        payload.body,
        payload.media_type,
        headers=headers,
        cache_control="private, no-cache",
    )


def count_cache(request: Request, status: str) -> None:
    """A hit or a miss of the response cache; a bypass (no cache, or no data revision to key
    on) is neither. A stale answer served because indicators failed is a hit of the stale
    copies (`cache="stale"`)."""
    metrics = gateway_metrics(request)
    if status == "HIT":
        metrics.cache_hits.labels("response").inc()
    elif status == "MISS":
        metrics.cache_misses.labels("response").inc()
    elif status == "STALE":
        metrics.cache_hits.labels("stale").inc()
