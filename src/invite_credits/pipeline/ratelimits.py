"""Rate limits: token buckets per member (mutations) and per client address (sign-ups, anonymous requests).

A bucket holds up to its limit and refills at limit per period, so a person using the app never meets it while a
script is slowed to the limit. Without Redis the buckets live in each process; with INVITE_CREDITS_REDIS_URL
every process and node shares them, each take one atomic Lua script on Redis's own clock. If Redis cannot be
reached, requests are served (never refused for it), and the loss is logged (at most once a minute) and counted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain.errors import RateLimited

if TYPE_CHECKING:
    from ..observability.metrics import Metrics
    from ..settings import Settings

log = logging.getLogger("invite_credits.ratelimits")
LOCAL_KEYS_MAX = 100_000
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_RETRY_AFTER_SECONDS = 1.0  # after a failure, Redis is not asked again for this long (requests are served)

# KEYS[1]: the bucket; ARGV: capacity, refill per second. Returns {1, 0} when a token was taken, else {0, wait}.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(now - at, 0) * rate)
local wait = 0
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {taken, tostring(wait)}
"""


@dataclass(frozen=True)
class Bucket:
    """One limit: `key` names whose bucket it is, `capacity` tokens refilled over `period` seconds."""

    kind: str
    key: str
    capacity: int
    period: float

    @property
    def rate(self) -> float:
        return self.capacity / self.period


class RateLimiter:
    def __init__(self, settings: Settings, metrics: Metrics, scope: str) -> None:
        self.member_mutations = settings.member_mutations_per_minute
        self.signups = settings.signups_per_hour
        self.anonymous = settings.anonymous_requests_per_minute
        # Keys are scoped to the database, so two deployments sharing one Redis never share buckets.
        self.prefix = "invite-credits:rl:" + hashlib.sha256(scope.encode()).hexdigest()[:16] + ":"
        self.metrics = metrics
        self.local: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self.redis: Any = None
        self._take: Any = None
        self._redis_down_until = 0.0
        self._logged_at = 0.0
        if settings.redis_url is not None:
            import redis.asyncio as aioredis

            self.redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                                 socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            self._take = self.redis.register_script(_TAKE)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    def buckets(self, *, member_id: int | None, anonymous: bool, address: str, mutation: bool,
                signs_up: bool) -> list[Bucket]:
        """The buckets one request takes a token from (a limit of 0 is switched off)."""
        found = []
        if anonymous and self.anonymous:
            found.append(Bucket("anonymous", f"anon:{address}", self.anonymous, 60.0))
        if signs_up and self.signups:
            found.append(Bucket("sign_up", f"signup:{address}", self.signups, 3600.0))
        if mutation and member_id is not None and self.member_mutations:
            found.append(Bucket("member_mutations", f"member:{member_id}", self.member_mutations, 60.0))
        return found

    async def take(self, buckets: list[Bucket]) -> None:
        """A token from each bucket, or RateLimited with how long to wait."""
        for bucket in buckets:
            wait = await self._take_one(bucket)
            if wait > 0:
                self.metrics.rate_limited.labels(bucket.kind).inc()
                raise RateLimited(f"Too many requests ({bucket.kind.replace('_', ' ')}: {bucket.capacity} per "
                                  f"{_period(bucket.period)}); retry after {math.ceil(wait)} s.", math.ceil(wait))

    async def _take_one(self, bucket: Bucket) -> float:
        if self.redis is not None:
            now = time.monotonic()
            if now < self._redis_down_until:
                return 0.0
            try:
                taken, wait = await self._take(keys=[self.prefix + bucket.key], args=[bucket.capacity, bucket.rate])
            except Exception as exc:  # noqa: BLE001 - any failure of Redis: serve the request, count it
                self._redis_down_until = now + REDIS_RETRY_AFTER_SECONDS
                self.metrics.rate_limit_store_errors.inc()
                if now - self._logged_at >= 60:
                    self._logged_at = now
                    log.error("rate limits not enforced: Redis cannot be reached (%s); requests are served",
                              type(exc).__name__)
                return 0.0
            return 0.0 if int(taken) else float(wait)
        return self._take_local(bucket)

    def _take_local(self, bucket: Bucket) -> float:
        now = time.monotonic()
        tokens, at = self.local.pop(bucket.key, (float(bucket.capacity), now))
        tokens = min(float(bucket.capacity), tokens + (now - at) * bucket.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / bucket.rate
        self.local[bucket.key] = (tokens, now)
        while len(self.local) > LOCAL_KEYS_MAX:
            self.local.popitem(last=False)
        return wait


def _period(seconds: float) -> str:
    return "hour" if seconds == 3600 else "minute"
