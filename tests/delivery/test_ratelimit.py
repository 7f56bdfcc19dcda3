"""Rate limits: per campaign and overall, across workers (GCRA in Redis) and in process."""

from __future__ import annotations

import threading
import time

import pytest

from crm.delivery.ratelimit import MAX_RATE, MIN_RATE, LocalRateLimiter, RedisRateLimiter, check_rate
from crm.errors import ValidationError
from tests.support.processes import RedisServer


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


# ---- the rate a person gives, and the limits in force --------------------------------------

def test_check_rate_accepts_the_bounds_and_returns_a_float() -> None:
    assert check_rate(None) is None
    assert check_rate(MIN_RATE) == 0.001 and check_rate(MAX_RATE) == 10_000.0
    assert type(check_rate(5)) is float and check_rate(5) == 5.0


@pytest.mark.parametrize("value", [0.0009, 10_000.5, float("nan"), float("inf"), "5"])
def test_check_rate_refuses_with_the_range_and_the_value_given(value: object) -> None:
    """The message is what a person sees after `--rate`: the range to use, and what was given."""
    with pytest.raises(ValidationError) as caught:
        check_rate(value, "--rate")  # type: ignore[arg-type]
    assert (caught.value.message, caught.value.where) == (
        f"the rate must be a number of messages per second from 0.001 to 10,000, not {value!r}", "--rate")
    with pytest.raises(ValidationError) as caught:
        check_rate(value)  # type: ignore[arg-type]
    assert caught.value.where == "rate"


def _waits(limits: dict[str, float], times: int = 3) -> tuple[list[float], list[float]]:
    """What a fresh local limiter returns for ``times`` messages in a row, and what it slept."""
    clock = FakeClock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    limiter = LocalRateLimiter(clock=clock, sleep=sleep)
    return [limiter.acquire(limits) for _ in range(times)], slept


def test_stored_rates_out_of_range_are_held_within_it_and_no_rate_means_no_limit() -> None:
    # a rate stored before it was checked: at most 1,000 s apart, at least 1/10,000 s
    assert _waits({"campaign:1": 1e-300}) == ([0.0, 1000.0, 1000.0], [1000.0, 1000.0])
    assert _waits({"campaign:1": 1e9}) == (pytest.approx([0.0, 1e-4, 1e-4]), pytest.approx([1e-4, 1e-4]))
    # slower than one a second is a limit too
    assert _waits({"campaign:1": 0.5}) == ([0.0, 2.0, 2.0], [2.0, 2.0])
    # no limit: none, zero, negative, not a number
    for limits in ({}, {"campaign:1": None}, {"campaign:1": 0}, {"campaign:1": -5.0}, {"campaign:1": float("nan")}):
        assert _waits(limits) == ([0.0, 0.0, 0.0], []), limits  # type: ignore[arg-type]
    # a limit beside one that is not: the limit holds
    assert _waits({"campaign:1": 4.0, "global": float("nan")}) == ([0.0, 0.25, 0.25], [0.25, 0.25])
    assert _waits({"campaign:1": 4.0, "global": -1.0}) == ([0.0, 0.25, 0.25], [0.25, 0.25])


def test_local_limiter_does_not_wait_for_a_slot_already_past() -> None:
    clock = FakeClock()
    slept: list[float] = []
    limiter = LocalRateLimiter(clock=clock, sleep=slept.append)  # records, time does not move by itself
    assert limiter.acquire({"campaign:1": 2.0}) == 0.0
    assert limiter.acquire({"campaign:1": 2.0}) == 0.5  # reserved half a second after the first
    clock.now += 10.0  # a long pause: the next slot is long past
    assert limiter.acquire({"campaign:1": 2.0}) == 0.0
    assert slept == [0.5]
    # another scope has its own slot; a message under both takes the later of the two
    assert limiter.acquire({"campaign:2": 1.0}) == 0.0
    assert limiter.acquire({"campaign:1": 2.0, "campaign:2": 1.0}) == 1.0


@pytest.mark.slow
def test_a_stalled_redis_holds_a_message_up_two_seconds_at_most() -> None:
    """Redis stops answering (SIGSTOP: connections open, no reply): after its 2 s socket
    timeout the worker limits itself and sends on, instead of waiting for Redis forever."""
    import os
    import signal

    with RedisServer() as server:
        limiter = RedisRateLimiter(server.url, sleep=lambda seconds: None)
        assert limiter.acquire({}) == 0.0 and limiter.acquire({"campaign:1": 0}) == 0.0  # no limit: no wait
        assert limiter.acquire({"campaign:1": 1.0}) == pytest.approx(0.0, abs=0.05)
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            assert limiter.acquire({"campaign:1": 1.0}) == 0.0  # the local limiter's first reservation
            assert 1.5 < time.monotonic() - began < 2.8
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)


@pytest.mark.slow
def test_a_redis_host_that_does_not_answer_the_connection_holds_a_message_up_two_seconds_at_most() -> None:
    """The connection itself gets no answer (a listener whose queue is full drops it, as a
    host gone from the network would): after the 2 s connect timeout the worker limits itself."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(4):  # fill the accept queue; nobody ever accepts
        client = socket.socket()
        client.setblocking(False)
        try:
            client.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        queued.append(client)
    try:
        time.sleep(0.1)
        limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0", sleep=lambda seconds: None)
        began = time.monotonic()
        assert limiter.acquire({"campaign:1": 1.0}) == 0.0
        assert 1.5 < time.monotonic() - began < 2.8
    finally:
        for client in queued:
            client.close()
        listener.close()
