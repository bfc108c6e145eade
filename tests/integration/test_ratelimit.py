"""Rate limits per grant: the token bucket in this process and in a real Redis (127.0.0.1:6379)."""

from __future__ import annotations

import math
import os
import threading
import time
import uuid

import pytest
import redis

from govshare.exchange.ratelimit import InProcessLimiter, RedisLimiter, make_limiter

REDIS_URL = os.environ.get("GOVSHARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # the test environment starts Redis (scripts/ensure-test-env): no silent skip
    yield client
    client.close()


@pytest.fixture(params=["in-process", "redis"])
def limiter(request, redis_client):
    if request.param == "in-process":
        yield InProcessLimiter()
        return
    prefix = f"govshare-test:{uuid.uuid4().hex}:"
    yield RedisLimiter(redis_client, prefix=prefix)
    for key in redis_client.scan_iter(prefix + "*"):
        redis_client.delete(key)


def test_a_burst_up_to_the_rate_then_refusal_with_retry_after(limiter):
    decisions = [limiter.acquire("grant:1", 6, now=1000.0) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 6 + [False]
    assert [d.remaining for d in decisions[:6]] == [5, 4, 3, 2, 1, 0]
    assert decisions[-1].retry_after == pytest.approx(10.0)  # 6 a minute: one token every 10 s
    assert decisions[-1].headers(6) == {
        "RateLimit-Limit": "6",
        "RateLimit-Remaining": "0",
        "Retry-After": "10",
    }


def test_tokens_come_back_at_the_rate_and_never_beyond_it(limiter):
    for _ in range(6):
        assert limiter.acquire("grant:2", 6, now=0.0).allowed
    assert not limiter.acquire("grant:2", 6, now=5.0).allowed  # half a token back
    assert limiter.acquire("grant:2", 6, now=10.0).allowed  # one token
    assert not limiter.acquire("grant:2", 6, now=10.5).allowed
    later = [limiter.acquire("grant:2", 6, now=10_000.0) for _ in range(7)]  # idle for hours: full, not more
    assert sum(d.allowed for d in later) == 6


def test_buckets_are_per_key(limiter):
    assert limiter.acquire("grant:3", 1, now=0.0).allowed
    assert not limiter.acquire("grant:3", 1, now=0.0).allowed
    assert limiter.acquire("grant:4", 1, now=0.0).allowed


def test_a_zero_rate_refuses_everything(limiter):
    decision = limiter.acquire("grant:5", 0, now=0.0)
    assert not decision.allowed and math.isinf(decision.retry_after)


def test_redis_bucket_is_shared_and_never_overspent_by_concurrent_processes(redis_client):
    """Two limiters (two platform processes) and 8 threads draw 100 times from one bucket of 30."""
    prefix = f"govshare-test:{uuid.uuid4().hex}:"
    processes = [RedisLimiter(redis.Redis.from_url(REDIS_URL), prefix=prefix) for _ in range(2)]
    allowed = []

    def draw(limiter: RedisLimiter) -> None:
        for _ in range(100 // 8 + 1):
            allowed.append(limiter.acquire("grant:shared", 30, now=500.0).allowed)

    threads = [threading.Thread(target=draw, args=(processes[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 30
    ttl = redis_client.pttl(prefix + "grant:shared")
    assert 0 < ttl <= 61_000  # an idle bucket leaves Redis once it would be full again
    redis_client.delete(prefix + "grant:shared")


def test_redis_unreachable_falls_back_to_this_process_and_fails_fast(caplog):
    limiter = RedisLimiter.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    started = time.monotonic()
    assert limiter.acquire("grant:6", 1, now=0.0).allowed
    assert not limiter.acquire("grant:6", 1, now=0.0).allowed  # the fallback bucket still limits
    assert time.monotonic() - started < 1.0  # no retries with back-off on the request path
    assert caplog.text.count("Redis unavailable") == 1  # the second request did not try Redis again


def test_settings_choose_the_limiter():
    assert isinstance(make_limiter(None), InProcessLimiter)
    assert isinstance(make_limiter(REDIS_URL), RedisLimiter)
