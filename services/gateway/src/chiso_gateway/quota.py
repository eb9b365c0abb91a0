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

When Redis fails (or its breaker, `redis_guard.Breaker`, is open), quotas fail open or closed
as `QUOTA_FAIL_OPEN` says, and token limits as `TOKEN_LIMIT_FAIL_OPEN` says.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from chiso_gateway.redis_guard import Breaker, RedisUnavailable
from chiso_shared.errors import ServiceUnavailable

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
        already reached `limit`; one atomic step, so replicas cannot both take the last one.
        Raises `RedisUnavailable` when the count cannot be made."""
        ...

    async def peek(self, key: str, window: int) -> tuple[int, int]:
        """The (previous, current) counts of `key`'s `window`, counting nothing."""
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
        previous, current = await self.peek(key, window)
        allowed = previous * carried + current + 1 <= limit
        if allowed:
            current += 1
        self.counts[key] = (window, previous, current)
        return Tally(previous, current, allowed)

    async def peek(self, key: str, window: int) -> tuple[int, int]:
        stored, previous, current = self.counts.get(key, (window, 0, 0))
        if stored == window - 1:
            return current, 0
        if stored != window:
            return 0, 0
        return previous, current


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
    def __init__(self, redis: Redis, prefix: str, breaker: Breaker | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.script = redis.register_script(_TAKE)
        self.breaker = breaker or Breaker(0)

    def _names(self, key: str, window: int) -> list[str]:
        # The braces keep both windows of a key in one Redis Cluster slot.
        return [f"{self.prefix}quota:{{{key}}}:{w}" for w in (window, window - 1)]

    async def take(self, key: str, window: int, seconds: int, limit: int, carried: float) -> Tally:
        previous, current, allowed = await self.breaker.call(
            lambda: self.script(
                keys=self._names(key, window), args=[limit, repr(carried), 2 * seconds + 5]
            )
        )
        return Tally(int(previous), int(current), bool(allowed))

    async def peek(self, key: str, window: int) -> tuple[int, int]:
        current, previous = await self.breaker.call(
            lambda: self.redis.mget(self._names(key, window))
        )
        return int(previous or 0), int(current or 0)


class Quotas:
    def __init__(
        self,
        counter: Counter,
        tiers: dict[str, int],
        window_seconds: int = 60,
        *,
        sliding: bool = True,
        fail_open: bool = True,
    ) -> None:
        self.counter = counter
        self.tiers = tiers
        self.seconds = window_seconds
        self.sliding = sliding
        self.fail_open = fail_open

    def limit_for(self, tier: str) -> int:
        # A tier no longer configured gets the most restrictive configured limit, not unlimited.
        if tier in self.tiers:
            return self.tiers[tier]
        limited = [limit for limit in self.tiers.values() if limit > 0]
        return min(limited, default=0)

    async def check(self, client_id: str, tier: str, now: float | None = None) -> QuotaState | None:
        """The client's state after counting this request; None when its tier is unlimited,
        or when the count cannot be made and quotas fail open (503 when they fail closed)."""
        limit = self.limit_for(tier)
        if limit <= 0:
            return None
        try:
            return await window_state(
                self.counter, client_id, limit, self.seconds, now, sliding=self.sliding
            )
        except RedisUnavailable as exc:
            if self.fail_open:
                return None
            raise ServiceUnavailable(
                "Quotas cannot be counted right now; try again shortly.",
                code="gateway.quota_unavailable",
                headers={"Retry-After": str(exc.retry_after)},
            ) from exc


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
    window, left, carried = _window(seconds, now, sliding)
    tally = await counter.take(key, window, seconds, limit, carried)
    return _state(tally, limit, seconds, left, carried, sliding=sliding)


async def peek_state(
    counter: Counter,
    key: str,
    limit: int,
    seconds: int,
    now: float | None = None,
    *,
    sliding: bool = True,
) -> QuotaState:
    """Whether one more request would fit `key`'s `limit` per `seconds`, counting nothing."""
    window, left, carried = _window(seconds, now, sliding)
    previous, current = await counter.peek(key, window)
    tally = Tally(previous, current, previous * carried + current + 1 <= limit)
    return _state(tally, limit, seconds, left, carried, sliding=sliding)


def _window(seconds: int, now: float | None, sliding: bool) -> tuple[int, float, float]:
    """The window `now` is in, the seconds left of it, and the previous window's weight."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    left = (window + 1) * seconds - now
    return window, left, left / seconds if sliding else 0.0


def _state(
    tally: Tally, limit: int, seconds: int, left: float, carried: float, *, sliding: bool
) -> QuotaState:
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


class TokenLimitsUnavailable(Exception):
    """Failures cannot be counted (Redis down) and token limits fail closed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("token limits unavailable")
        self.retry_after = retry_after


class TokenLimits:
    """Failed token requests per remote address, and per client id from one address.

    Only failures count: a client that knows its secret is never refused for requests it did
    not make. Counting attempts per client id let anyone lock a client out with 31 wrong
    secrets; counted per client id *and address*, wrong secrets lock out only the address
    they come from, while the per-address limit caps one address's guesses across all client
    ids. Once a limit is reached the secret is not checked at all (429), so a locked-out
    guesser learns nothing more. The address is the caller's as the trusted proxies
    (`FORWARDED_ALLOW_IPS`) report it. 0 turns a limit off.

    When failures cannot be counted (Redis down), `fail_open` lets token requests through
    unlimited; otherwise they are refused with 503 until Redis answers again.
    """

    def __init__(
        self,
        counter: Counter,
        *,
        per_client: int,
        per_address: int,
        window_seconds: int = 60,
        sliding: bool = True,
        fail_open: bool = False,
    ) -> None:
        self.counter = counter
        self.sliding = sliding
        self.per_client = per_client
        self.per_address = per_address
        self.seconds = window_seconds
        self.fail_open = fail_open

    def _limits(self, client_id: str, address: str) -> list[tuple[str, int]]:
        keys = [
            (f"token-fail-address:{address}", self.per_address),
            (f"token-fail-client:{address}:{client_id[:64]}", self.per_client),
        ]
        return [(key, limit) for key, limit in keys if limit > 0]

    async def check(
        self, client_id: str, address: str, now: float | None = None
    ) -> QuotaState | None:
        """The first limit one more failure would go over, or None when the request may be
        checked. Raises `TokenLimitsUnavailable` when failures cannot be counted and the
        limits fail closed."""
        try:
            for key, limit in self._limits(client_id, address):
                state = await peek_state(
                    self.counter, key, limit, self.seconds, now, sliding=self.sliding
                )
                if not state.allowed:
                    return state
        except RedisUnavailable as exc:
            if self.fail_open:
                return None
            raise TokenLimitsUnavailable(exc.retry_after) from exc
        return None

    async def failed(self, client_id: str, address: str, now: float | None = None) -> None:
        """Count one failed token request of `client_id` from `address`."""
        try:
            for key, limit in self._limits(client_id, address):
                await window_state(
                    self.counter, key, limit, self.seconds, now, sliding=self.sliding
                )
        except RedisUnavailable:
            logger.warning("a failed token request was not counted: Redis is unavailable")
