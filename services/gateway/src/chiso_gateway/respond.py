"""Answers for read routes: served from the response cache, with ETag/304 and Cache-Control."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from pydantic_core import to_json
from starlette.responses import Response

from chiso_gateway.cache import Payload, cache_key
from chiso_gateway.deps import Reads
from chiso_gateway.envelope import Envelope
from chiso_gateway.metrics import gateway_metrics
from chiso_shared.languages import Language as Language  # re-exported for the views
from chiso_shared.languages import preferred_language
from chiso_shared.responses import conditional

Compute = Callable[[int | None], Awaitable[Payload]]


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
    on the Accept header when the answer's representation follows it (`by_accept`)."""
    settings, cache = reads.settings, reads.cache
    current = await reads.revision.current()
    lang = language(request)
    status = "BYPASS"
    payload: Payload | None = None
    key = ""
    if cache is not None and current is not None:
        # The host is in the key because answers carry absolute links.
        where = f"{request.url.netloc}{request.url.path}"
        key = cache_key(
            current,
            language=lang,
            accept=_accept(request) if by_accept else "",
            where=where,
            query=request.query_params.multi_items(),
        )
        payload = await cache.get(key)
        status = "HIT" if payload is not None else "MISS"
    if payload is None:
        payload = await compute(current)
        small = len(payload.body) <= settings.cache_max_body_bytes
        if cache is not None and status == "MISS" and small:
            await cache.set(key, payload, settings.cache_ttl_seconds)
    count_cache(request, status)
    age = settings.client_max_age_seconds
    headers = {
        **payload.headers,
        "X-Cache": status,
        "Content-Language": lang,
        "Vary": ("Accept, " if by_accept else "") + "Accept-Language, Authorization",
    }
    return conditional(
        request,
        payload.body,
        payload.media_type,
        headers=headers,
        cache_control=f"private, max-age={age}, stale-while-revalidate={age * 5}",
    )


def count_cache(request: Request, status: str) -> None:
    """A hit or a miss of the response cache; a bypass (no cache, or no data revision to key
    on) is neither."""
    metrics = gateway_metrics(request)
    if status == "HIT":
        metrics.cache_hits.labels("response").inc()
    elif status == "MISS":
        metrics.cache_misses.labels("response").inc()
