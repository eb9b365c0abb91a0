"""A circuit breaker for the gateway's Redis (response cache, quotas, token limits).

A Redis that hangs costs every call its full timeout, and a request makes up to three: a
quota count, a cache read and a cache write. After one failure the breaker skips Redis for
`cooldown` seconds, so requests meet the outage at once and each use decides what that means
(the cache misses; quotas and token limits fail open or closed, as configured). When the
cooldown is over one call probes Redis while the others keep skipping; its success closes the
breaker, its failure opens it for another cooldown.

It is a few lines of state, not a protocol: `aiobreaker` and `purgatory` would add a
dependency for the same two timestamps.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import RedisError

T = TypeVar("T")
logger = logging.getLogger("chiso.gateway.redis")


class RedisUnavailable(Exception):
    """Redis failed, or was skipped because it failed less than a cooldown ago."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after  # seconds until the breaker lets a call probe Redis


class Breaker:
    def __init__(self, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self.clock = clock
        self.retry_at: float | None = None  # while set, the breaker is open until then
        self.attempts = 0  # calls let through to Redis

    @property
    def is_open(self) -> bool:
        return self.retry_at is not None

    def _retry_after(self, now: float) -> int:
        return max(1, math.ceil((self.retry_at or now) - now))

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """`operation`'s result; raises `RedisUnavailable` when it fails or is skipped."""
        now = self.clock()
        if self.retry_at is not None:
            if now < self.retry_at:
                raise RedisUnavailable("skipped: Redis failed recently", self._retry_after(now))
            self.retry_at = now + self.cooldown  # this call probes; the others keep skipping
        self.attempts += 1
        try:
            result = await operation()
        except (RedisError, OSError) as exc:
            now = self.clock()
            if self.retry_at is None:
                logger.warning("redis unavailable", extra={"error": repr(exc)})
            self.retry_at = now + self.cooldown
            raise RedisUnavailable(repr(exc), self._retry_after(now)) from exc
        if self.retry_at is not None:
            logger.info("redis available again")
            self.retry_at = None
        return result
