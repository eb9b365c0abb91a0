"""Per-client quotas by tier, counted in Redis or in memory, over sliding or fixed windows.

Redis counters are shared by every gateway replica, so N replicas do not let N times the
quota through (the WSO2 and Kong `local` policy failure).

A fixed window (WSO2's default) lets a client spend its quota at the end of one window and
again at the start of the next: twice the limit within seconds. The sliding window counts the
current window plus the previous one weighted by the share of it still within the last
`seconds` (the sliding-window counter of Cloudflare and Kong's `sliding` strategy): two
counters per client, and a burst at a window's edge weighs on the next window until it has
slid out. It is an estimate that assumes the previous window's requests were spread evenly.
Only allowed requests are counted, so a client that keeps calling while refused is let back
in when `Retry-After` said.
"""

from __future__ import annotations

import logging
import math
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
    reset: int  # seconds until a refused request may try again, or until the window ends
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


@dataclass(frozen=True)
class Tally:
    previous: int  # allowed requests in the previous window
    current: int  # allowed requests in this window, this one included when allowed
    allowed: bool


class Counter(Protocol):
    async def take(self, key: str, window: int, seconds: int, limit: int, carried: float) -> Tally:
        """Count one request in `key`'s `window` unless `previous * carried + current` has
        already reached `limit`; one atomic step, so replicas cannot both take the last one."""
        ...


class MemoryCounter:
    """One process only.

    Keys can come from callers (the token endpoint counts the client ids it is sent), so when
    there are more than `max_keys`, keys not counted in this window or the previous one are
    forgotten.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self.counts: dict[str, tuple[int, int, int]] = {}  # key: (window, previous, current)
        self.max_keys = max_keys

    async def take(self, key: str, window: int, _seconds: int, limit: int, carried: float) -> Tally:
        if len(self.counts) >= self.max_keys and key not in self.counts:
            self.counts = {k: kept for k, kept in self.counts.items() if kept[0] >= window - 1}
        stored, previous, current = self.counts.get(key, (window, 0, 0))
        if stored == window - 1:
            previous, current = current, 0
        elif stored != window:
            previous, current = 0, 0
        allowed = previous * carried + current + 1 <= limit
        if allowed:
            current += 1
        self.counts[key] = (window, previous, current)
        return Tally(previous, current, allowed)


# KEYS: this window's counter, the previous window's. ARGV: limit, carried weight, ttl.
_TAKE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[2]) + current + 1 <= tonumber(ARGV[1]) then
  current = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
  return {previous, current, 1}
end
return {previous, current, 0}
"""


class RedisCounter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.script = redis.register_script(_TAKE)

    async def take(self, key: str, window: int, seconds: int, limit: int, carried: float) -> Tally:
        # The braces keep both windows of a key in one Redis Cluster slot.
        names = [f"{self.prefix}quota:{{{key}}}:{w}" for w in (window, window - 1)]
        try:
            previous, current, allowed = await self.script(
                keys=names, args=[limit, repr(carried), 2 * seconds + 5]
            )
        except RedisError as exc:
            # Fail open: a Redis outage must not take the API down with it.
            logger.warning("quota counter unavailable", extra={"error": str(exc)})
            return Tally(0, 0, True)
        return Tally(int(previous), int(current), bool(allowed))


class Quotas:
    def __init__(
        self,
        counter: Counter,
        tiers: dict[str, int],
        window_seconds: int = 60,
        *,
        sliding: bool = True,
    ) -> None:
        self.counter = counter
        self.tiers = tiers
        self.seconds = window_seconds
        self.sliding = sliding

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
        return await window_state(
            self.counter, client_id, limit, self.seconds, now, sliding=self.sliding
        )


async def window_state(
    counter: Counter,
    key: str,
    limit: int,
    seconds: int,
    now: float | None = None,
    *,
    sliding: bool = True,
) -> QuotaState:
    """Count one request against `key`'s `limit` per `seconds`."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    left = (window + 1) * seconds - now  # of this window
    carried = left / seconds if sliding else 0.0
    tally = await counter.take(key, window, seconds, limit, carried)
    used = tally.previous * carried + tally.current
    wait = left if tally.allowed or not sliding else _sliding_wait(tally, limit, seconds, left)
    return QuotaState(
        limit=limit,
        remaining=max(0, math.floor(limit - used + 1e-9)),
        reset=max(1, math.ceil(wait - 1e-9)),
        allowed=tally.allowed,
    )


def _sliding_wait(tally: Tally, limit: int, seconds: int, left: float) -> float:
    """Seconds until a refused client's weighted count leaves room for one more request.

    Within this window the previous window's weight falls linearly to 0 at its end; after it,
    this window's count becomes the previous one and falls the same way."""
    room = limit - 1 - tally.current
    if room >= 0 and tally.previous > 0:
        return max(0.0, left - seconds * room / tally.previous)
    if tally.current == 0:  # refused with nothing counted: only a limit below 1 does that
        return left
    return left + seconds * (1 - (limit - 1) / tally.current)


class TokenLimits:
    """Token requests per remote address and per client id (as sent, before it is checked).

    They slow down secret guessing and clients that fetch a token for every call; 0 turns a
    limit off.
    """

    def __init__(
        self,
        counter: Counter,
        *,
        per_client: int,
        per_address: int,
        window_seconds: int = 60,
        sliding: bool = True,
    ) -> None:
        self.counter = counter
        self.sliding = sliding
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
                state = await window_state(
                    self.counter, key, limit, self.seconds, now, sliding=self.sliding
                )
                if not state.allowed:
                    return state
        return None
