"""Rate limits: per campaign and overall, across workers (GCRA in Redis) and in process."""

from __future__ import annotations

import threading

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
        # Redis gone: each worker limits itself instead of failing the send
        fallback = workers[0].acquire({"campaign:7": 1000})
        assert fallback >= 0
