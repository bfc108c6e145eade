"""Rate limits per grant (限流): a token bucket, in this process or shared through Redis.

Each grant allows ``rate`` requests per minute with bursts up to ``rate``: the bucket holds at most
``rate`` tokens, refills at ``rate / 60`` tokens a second, and each request takes one. With one
platform process the in-process limiter is exact; with several behind a load balancer, set
``GOVSHARE_REDIS_URL`` and every process draws from the same bucket in Redis (one atomic Lua script
per request, so concurrent requests never overspend it).

If Redis cannot be reached the limiter falls back to this process's buckets and logs it: a rate limit
protects the providing department's systems, and a service hall should not stop serving citizens
because the limiter's store is down.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # whole tokens left after this request
    retry_after: float  # seconds until one token is back (0 when allowed)

    def headers(self, rate: int) -> dict[str, str]:
        """Response headers in the IETF RateLimit style, plus Retry-After on a refusal."""
        out = {"RateLimit-Limit": str(rate), "RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return out


class RateLimiter(Protocol):
    def acquire(self, key: str, rate: int, now: float | None = None) -> Decision:
        """Take one token from ``key``'s bucket of ``rate`` per minute, if there is one."""
        ...


def _take(tokens: float, last: float, rate: int, now: float) -> tuple[float, Decision]:
    """The bucket arithmetic shared by both limiters (the Lua script below does the same)."""
    per_second = rate / 60.0
    tokens = min(float(rate), tokens + max(0.0, now - last) * per_second)
    if tokens >= 1.0:
        tokens -= 1.0
        return tokens, Decision(True, int(tokens), 0.0)
    return tokens, Decision(False, 0, (1.0 - tokens) / per_second)


class InProcessLimiter:
    """Buckets in this process's memory; the least recently used are forgotten beyond ``max_keys``
    (a forgotten bucket comes back full, which only ever errs towards allowing)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str, rate: int, now: float | None = None) -> Decision:
        if rate <= 0:
            return Decision(False, 0, math.inf)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(rate), now))
            tokens, decision = _take(tokens, last, rate, now)
            self._buckets[key] = (tokens, max(now, last))
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return decision


# KEYS[1] bucket; ARGV: rate per minute, now (seconds, float). Returns {allowed, remaining, retry_after}.
# The bucket expires once it would be full again, so idle grants cost Redis nothing.
_LUA = """
local rate = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local per_second = rate / 60.0
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1]) or rate
local last = tonumber(state[2]) or now
if now > last then tokens = math.min(rate, tokens + (now - last) * per_second) else now = last end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / per_second
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((rate - tokens) / per_second * 1000) + 1000)
return {allowed, math.floor(tokens), tostring(retry)}
"""


class RedisLimiter:
    """Buckets shared by every platform process, in Redis hashes under ``prefix``."""

    PAUSE = 5.0  # seconds without trying Redis after it failed, so requests don't each wait for it

    def __init__(self, client: Any, prefix: str = "govshare:ratelimit:", fallback: RateLimiter | None = None):
        self.client = client
        self.prefix = prefix
        self.fallback = fallback or InProcessLimiter()
        self._script = client.register_script(_LUA)
        self._paused_until = 0.0

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisLimiter:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Fail fast: no retries with back-off (redis-py's default spends seconds on a dead server),
        # half a second at most per call; the pause below covers the rest.
        client = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        return cls(client, **kwargs)

    def acquire(self, key: str, rate: int, now: float | None = None) -> Decision:
        if rate <= 0:
            return Decision(False, 0, math.inf)
        # Wall-clock time (not monotonic): every process must read the same clock for a shared bucket.
        moment = time.time() if now is None else now
        if time.monotonic() < self._paused_until:
            return self.fallback.acquire(key, rate, now)
        try:
            allowed, remaining, retry = self._script(keys=[self.prefix + key], args=[rate, repr(moment)])
        except Exception as err:  # redis.RedisError, timeouts, a server gone away
            self._paused_until = time.monotonic() + self.PAUSE
            log.warning(
                "rate limiter: Redis unavailable (%s); using this process's buckets for %.0f s",
                err,
                self.PAUSE,
            )
            return self.fallback.acquire(key, rate, now)
        return Decision(bool(allowed), int(remaining), float(retry))


def make_limiter(redis_url: str | None) -> RateLimiter:
    """The limiter the settings ask for: Redis when ``GOVSHARE_REDIS_URL`` is set, else in-process."""
    return RedisLimiter.from_url(redis_url) if redis_url else InProcessLimiter()
