"""Messages per second, per campaign and overall, honoured across every worker.

Both limiters use GCRA (the generic cell rate algorithm): each scope keeps the
"theoretical arrival time" of its next message; a caller reserves the next slot and sleeps
until it. With Redis the reservation is one Lua script, atomic across all worker
processes and hosts, timed by the Redis server's clock. Without Redis (the embedded
default, one process) a lock does the same in memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def acquire(self, limits: dict[str, float]) -> float:
        """Block until a message may go under every ``scope -> messages/second`` limit;
        returns the seconds waited."""
        ...


class NoLimit:
    def acquire(self, limits: dict[str, float]) -> float:
        return 0.0


class LocalRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self, limits: dict[str, float]) -> float:
        active = {k: r for k, r in limits.items() if r and r > 0}
        if not active:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max([now] + [self._tat.get(k, now) for k in active])
            for key, rate in active.items():
                self._tat[key] = start + 1.0 / rate
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)


_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local start = now
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat > start then start = tat end
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[i])
  redis.call('SET', key, tostring(start + interval), 'PX', math.ceil((start + interval - now) * 1000) + 1000)
end
return tostring(start - now)
"""


class RedisRateLimiter:
    """Shared by every worker through Redis. While Redis is unreachable (a restart), each
    worker limits itself alone rather than stopping: sending goes on, the limit holds per
    worker until Redis is back."""

    def __init__(self, url: str, prefix: str = "crm:rate:", sleep: Callable[[float], None] = time.sleep) -> None:
        import redis  # only needed where a Redis broker is configured

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors = (redis.RedisError, OSError)
        self._script = self._redis.register_script(_GCRA)
        self._prefix = prefix
        self._sleep = sleep
        self._fallback = LocalRateLimiter(sleep=sleep)

    def acquire(self, limits: dict[str, float]) -> float:
        active = {k: r for k, r in limits.items() if r and r > 0}
        if not active:
            return 0.0
        keys = [self._prefix + k for k in active]
        try:
            wait = float(self._script(keys=keys, args=[1.0 / r for r in active.values()]))
        except self._errors:
            return self._fallback.acquire(active)
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)
