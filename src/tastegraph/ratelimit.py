"""Fixed-window rate limits, counted in the process (embedded default) or in Redis (shared by
several server processes).

Windows are fixed, as ListenBrainz's are: ``reset = (now // window + 1) * window``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Protocol


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_at: int
    """UNIX seconds when the window ends."""
    exceeded: bool

    def reset_in(self, now: float) -> int:
        return max(0, self.reset_at - int(now))


class RateLimiter(Protocol):
    def hit(self, key: str) -> RateState:
        """Count one request for ``key`` and say where it stands in its window."""


class MemoryRateLimiter:
    def __init__(self, limit: int, window: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = Lock()

    def hit(self, key: str) -> RateState:
        now = self.clock()
        window_start = int(now // self.window) * self.window
        with self._lock:
            start, count = self._counts.get(key, (window_start, 0))
            if start != window_start:
                start, count = window_start, 0
            count += 1
            self._counts[key] = (start, count)
            if len(self._counts) > 100_000:
                self._forget_old(window_start)
        return _state(self.limit, count, window_start + self.window)

    def _forget_old(self, window_start: int) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[0] == window_start}


class RedisRateLimiter:
    """One INCR and EXPIRE per request, in a single round trip."""

    def __init__(
        self, url: str, limit: int, window: int, clock: Callable[[], float] = time.time
    ) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.limit = limit
        self.window = window
        self.clock = clock

    def hit(self, key: str) -> RateState:
        now = self.clock()
        window_start = int(now // self.window) * self.window
        redis_key = f"tastegraph:rate:{key}:{window_start}"
        pipe = self.redis.pipeline()
        pipe.incr(redis_key)
        pipe.expire(redis_key, self.window + 1)
        count, _ = pipe.execute()
        return _state(self.limit, int(count), window_start + self.window)


def _state(limit: int, count: int, reset_at: int) -> RateState:
    return RateState(
        limit=limit, remaining=max(0, limit - count), reset_at=reset_at, exceeded=count > limit
    )


def make_rate_limiter(redis_url: str, limit: int, window: int) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis_url, limit, window)
    return MemoryRateLimiter(limit, window)
