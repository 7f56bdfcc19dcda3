"""Rate limits: per campaign and overall, across workers (GCRA in Redis) and in process."""

from __future__ import annotations

import threading
import time

import pytest

from crm.delivery.ratelimit import LocalRateLimiter, RedisRateLimiter
from tests.processes import RedisServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_local_limiter_spaces_messages_and_takes_the_strictest_limit() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire({"campaign:1": 10, "global": 0}) for _ in range(5)]
    assert waits == pytest.approx([0, 0.1, 0.1, 0.1, 0.1])
    assert clock.now == pytest.approx(100.4)
    # a stricter global limit wins over the campaign's
    waits = [limiter.acquire({"campaign:1": 10, "global": 2}) for _ in range(3)]
    assert waits[1:] == pytest.approx([0.5, 0.5])
    assert limiter.acquire({}) == 0 and limiter.acquire({"campaign:9": 0}) == 0


@pytest.mark.slow
def test_redis_limiter_is_shared_by_every_worker() -> None:
    with RedisServer() as redis:
        slept: list[float] = []
        lock = threading.Lock()

        def sleep(seconds: float) -> None:  # record instead of sleeping: the reservations are what count
            with lock:
                slept.append(seconds)

        workers = [RedisRateLimiter(redis.url, sleep=sleep) for _ in range(3)]
        threads = [threading.Thread(target=lambda w=w: [w.acquire({"campaign:7": 20}) for _ in range(10)]) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # 30 messages at 20/s from three workers: reservations 0, 0.05, 0.10 … up to ~1.45 s ahead
        assert len(slept) >= 28
        assert max(slept) == pytest.approx(29 / 20, abs=0.15)
        redis.kill()
        # Redis gone: each worker limits itself instead of failing the send — and does limit:
        # at 1 msg/s its own reservations are 0, 1 and 2 s ahead (`acquire` does not raise).
        slept.clear()
        fallback = [workers[0].acquire({"campaign:7": 1}) for _ in range(3)]
        assert fallback == pytest.approx([0.0, 1.0, 2.0], abs=0.1)
        assert slept == fallback[1:]


@pytest.mark.slow
def test_redis_limiter_remembers_a_reservation_across_a_pause() -> None:
    """Not one burst: a message, a real pause, then two more. At 0.25 msg/s (one every 4 s)
    the second is reserved 4 s after the first, i.e. (4 - pause) s ahead, and the third 4 s
    after that: the slot taken before the pause is still known to Redis. (A key that expired
    too early — its expiry given as seconds counted as milliseconds — is forgotten after
    about 1 s: the second would go at once and the third only 4 s ahead.) The key does not
    outlive its reservations by more than a second either (milliseconds, not seconds)."""
    import redis as redis_client

    interval = 4.0
    with RedisServer() as server:
        slept: list[float] = []
        limiter = RedisRateLimiter(server.url, sleep=slept.append)  # records the reservations, sleeps not
        limits = {"campaign:3": 1 / interval}
        assert limiter.acquire(limits) == pytest.approx(0.0, abs=0.05)
        first = time.monotonic()
        time.sleep(1.2)  # longer than the 1 s an early expiry would keep the key
        paused = time.monotonic() - first
        second = limiter.acquire(limits)
        third = limiter.acquire(limits)
        assert second == pytest.approx(interval - paused, abs=0.2), (second, paused)
        assert third == pytest.approx(second + interval, abs=0.1), (second, third)
        assert slept == [second, third]
        ttl_ms = redis_client.Redis.from_url(server.url).pttl("crm:rate:campaign:3")
        assert 0 < ttl_ms <= (third + interval + 1.0) * 1000 + 100, ttl_ms
