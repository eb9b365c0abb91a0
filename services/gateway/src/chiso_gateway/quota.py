"""Per-client quotas by tier: fixed windows (one minute by default), counted in Redis or in memory.

Redis counters are shared by every gateway replica, so N replicas do not let N times the
quota through (the WSO2 and Kong `local` policy failure).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger("chiso.gateway.quota")


@dataclass(frozen=True)
class QuotaState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class Counter(Protocol):
    async def hit(self, key: str, window: int, seconds: int) -> int:
        """Count one request in `key` for this window and return the window's count."""
        ...


class MemoryCounter:
    """One process only; old windows are dropped as new ones start.

    Keys can come from callers (the token endpoint counts the client ids it is sent), so when
    there are more than `max_keys`, keys last counted in an earlier window are forgotten.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self.counts: dict[str, tuple[int, int]] = {}
        self.max_keys = max_keys

    async def hit(self, key: str, window: int, _seconds: int) -> int:
        if len(self.counts) >= self.max_keys and key not in self.counts:
            self.counts = {name: kept for name, kept in self.counts.items() if kept[0] == window}
        started, count = self.counts.get(key, (window, 0))
        count = count + 1 if started == window else 1
        self.counts[key] = (window, count)
        return count


class RedisCounter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, window: int, seconds: int) -> int:
        name = f"{self.prefix}quota:{key}:{window}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, seconds + 5)
                count, _ = await pipe.execute()
        except RedisError as exc:
            # Fail open: a Redis outage must not take the API down with it.
            logger.warning("quota counter unavailable", extra={"error": str(exc)})
            return 0
        return int(count)


class Quotas:
    def __init__(self, counter: Counter, tiers: dict[str, int], window_seconds: int = 60) -> None:
        self.counter = counter
        self.tiers = tiers
        self.seconds = window_seconds

    def limit_for(self, tier: str) -> int:
        # A tier no longer configured gets the most restrictive configured limit, not unlimited.
        if tier in self.tiers:
            return self.tiers[tier]
        limited = [limit for limit in self.tiers.values() if limit > 0]
        return min(limited, default=0)

    async def check(self, client_id: str, tier: str, now: float | None = None) -> QuotaState | None:
        """The client's state after counting this request; None when its tier is unlimited."""
        limit = self.limit_for(tier)
        if limit <= 0:
            return None
        return await window_state(self.counter, client_id, limit, self.seconds, now)


async def window_state(
    counter: Counter, key: str, limit: int, seconds: int, now: float | None = None
) -> QuotaState:
    """Count one request against `key`'s fixed window of `seconds` and `limit` requests."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    hits = await counter.hit(key, window, seconds)
    reset = max(1, int((window + 1) * seconds - now + 0.999))
    return QuotaState(
        limit=limit, remaining=max(0, limit - hits), reset=reset, allowed=hits <= limit
    )


class TokenLimits:
    """Token requests per remote address and per client id (as sent, before it is checked).

    They slow down secret guessing and clients that fetch a token for every call; 0 turns a
    limit off.
    """

    def __init__(
        self, counter: Counter, *, per_client: int, per_address: int, window_seconds: int = 60
    ) -> None:
        self.counter = counter
        self.per_client = per_client
        self.per_address = per_address
        self.seconds = window_seconds

    async def check(
        self, client_id: str, address: str, now: float | None = None
    ) -> QuotaState | None:
        """The first limit this request goes over, or None when it may go on."""
        for key, limit in (
            (f"token-address:{address}", self.per_address),
            (f"token-client:{client_id[:64]}", self.per_client),
        ):
            if limit > 0:
                state = await window_state(self.counter, key, limit, self.seconds, now)
                if not state.allowed:
                    return state
        return None
