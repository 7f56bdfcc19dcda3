"""Messages per second, per campaign and overall, honoured across every worker.

Both limiters use GCRA (the generic cell rate algorithm): each scope keeps the
"theoretical arrival time" of its next message; a caller reserves the next slot and sleeps
until it. With Redis the reservation is one Lua script, atomic across all worker
processes and hosts, timed by the Redis server's clock. Without Redis (the embedded
default, one process) a lock does the same in memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from crm.errors import ValidationError


MIN_RATE = 0.001  # messages per second: one every 1,000 s
MAX_RATE = 10_000.0


def check_rate(value: float | None, where: str = "rate") -> float | None:
    """A rate a person gave (``--rate``): finite, from MIN_RATE to MAX_RATE messages a second."""
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and math.isfinite(value) and MIN_RATE <= value <= MAX_RATE):
        raise ValidationError(f"the rate must be a number of messages per second from {MIN_RATE:g} to "
                              f"{MAX_RATE:,.0f}, not {value!r}", where)
    return float(value)


def _active(limits: dict[str, float]) -> dict[str, float]:
    """The limits in force, each held within MIN_RATE..MAX_RATE (a rate stored before it was
    checked, 1e-300, would otherwise ask for a sleep longer than time itself)."""
    return {k: min(max(r, MIN_RATE), MAX_RATE) for k, r in limits.items() if r and r > 0 and not math.isnan(r)}


class RateLimiter(Protocol):
    def acquire(self, limits: dict[str, float]) -> float:
        """Block until a message may go under every ``scope -> messages/second`` limit;
        returns the seconds waited."""
        ...


class LocalRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self, limits: dict[str, float]) -> float:
        active = _active(limits)
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
        active = _active(limits)
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
