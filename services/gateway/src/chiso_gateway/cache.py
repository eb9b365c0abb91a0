"""The response cache (Redis or memory) and the indicators data revision it is keyed on.

Every key holds the data revision, so when indicators imports new facts the old entries are
simply never read again and expire by their TTL: no purge, no event bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from redis.asyncio import Redis

from chiso_gateway.redis_guard import Breaker, RedisUnavailable
from chiso_shared.errors import BadGateway, ChisoError, GatewayTimeout

if TYPE_CHECKING:
    from chiso_gateway.upstream import Upstream

logger = logging.getLogger("chiso.gateway.cache")


@dataclass(frozen=True)
class Payload:
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)
    # When the answer was computed (wall clock, shared by replicas through Redis): set on the
    # copy kept for stale-if-error, whose `Age` it gives; 0 elsewhere.
    stored_at: float = 0.0

    def dump(self) -> bytes:
        head: dict[str, Any] = {"media_type": self.media_type, "headers": self.headers}
        if self.stored_at:
            head["stored_at"] = self.stored_at
        return json.dumps(head).encode() + b"\n" + self.body

    @classmethod
    def load(cls, raw: bytes) -> Payload:
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        return cls(
            body=body,
            media_type=str(meta["media_type"]),
            headers=dict(meta["headers"]),
            stored_at=float(meta.get("stored_at", 0.0)),
        )


class Cache(Protocol):
    async def get(self, key: str) -> Payload | None: ...

    async def set(self, key: str, payload: Payload, ttl: int) -> None: ...


class MemoryCache:
    """An LRU of bounded size, with per-entry expiry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[str, tuple[float, Payload]] = OrderedDict()

    async def get(self, key: str) -> Payload | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        expires, payload = entry
        if expires < time.monotonic():
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return payload

    async def set(self, key: str, payload: Payload, ttl: int) -> None:
        self.entries[key] = (time.monotonic() + ttl, payload)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


class RedisCache:
    """Shared by all replicas; a Redis outage degrades to cache misses, never to errors (the
    breaker logs it)."""

    def __init__(self, redis: Redis, prefix: str, breaker: Breaker | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.breaker = breaker or Breaker(0)

    async def get(self, key: str) -> Payload | None:
        try:
            raw = await self.breaker.call(lambda: self.redis.get(self.prefix + "cache:" + key))
        except RedisUnavailable:
            return None
        return Payload.load(bytes(raw)) if isinstance(raw, bytes) else None

    async def set(self, key: str, payload: Payload, ttl: int) -> None:
        with contextlib.suppress(RedisUnavailable):
            await self.breaker.call(
                lambda: self.redis.set(self.prefix + "cache:" + key, payload.dump(), ex=ttl)
            )


def answer_digest(
    *,
    language: str,
    accept: str,
    where: str,
    query: list[tuple[str, str]],
) -> str:
    """What identifies one answer whatever the data revision: every part that shapes it, in
    an unambiguous encoding (a JSON array of decoded values). Joined as `k=v&k=v`,
    `?area=38%26indicator%3Dx` (one pair) and `?area=38&indicator=x` (two) were one key, so
    any reader could choose what others were served. `accept` is the representation asked
    (empty where there is only one)."""
    canonical = json.dumps([language, accept, where, sorted(query)])
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def cache_key(
    revision: int,
    *,
    language: str,
    accept: str,
    where: str,
    query: list[tuple[str, str]],
) -> str:
    """The key of one answer at one data revision."""
    digest = answer_digest(language=language, accept=accept, where=where, query=query)
    return f"{revision}:{digest}"


def stale_key(digest: str) -> str:
    """The key of the last good answer of `digest` at any revision, kept for stale-if-error:
    without the revision, so it is found when indicators cannot say which revision is
    current (it is down)."""
    return f"stale:{digest}"


class RevisionTracker:
    """The indicators data revision, re-read at most every `interval` seconds."""

    def __init__(self, indicators: Upstream, interval: float) -> None:
        self.indicators = indicators
        self.interval = interval
        self.value: int | None = None
        self.read_at = float("-inf")
        self.lock = asyncio.Lock()
        # The failure of the last check when indicators was down or hanging, until a check
        # succeeds: callers with a stale answer serve it at once rather than try again.
        self.outage: BadGateway | GatewayTimeout | None = None

    async def current(self) -> int | None:
        """The revision, or None when indicators cannot say (the caller then bypasses the cache)."""
        if time.monotonic() - self.read_at < self.interval:
            return self.value
        async with self.lock:
            if time.monotonic() - self.read_at < self.interval:
                return self.value
            try:
                body = (await self.indicators.request("GET", "/v1/revision")).json()
                self.value = int(body["revision"])
                if self.outage is not None:
                    logger.info("indicators answers again")
                self.outage = None
            except (BadGateway, GatewayTimeout) as exc:
                # Indicators is down or hanging: say so now rather than wait for it twice.
                # Until the next check, callers bypass the cache and meet the outage themselves
                # (or serve a stale answer: `outage`).
                if self.outage is None:
                    logger.warning("indicators does not answer", extra={"error": exc.code})
                self.value, self.read_at, self.outage = None, time.monotonic(), exc
                raise
            except (ChisoError, ValueError, KeyError, TypeError) as exc:
                logger.warning("revision check failed", extra={"error": str(exc)})
                self.value, self.outage = None, None  # it answered: no outage
            self.read_at = time.monotonic()
            return self.value
