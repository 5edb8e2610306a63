"""A token-bucket limiter in Redis for requests/min and tokens/min, shared by every worker.

Both buckets of an endpoint are checked and debited in one Lua script, so concurrent workers
can never overdraw them, and the clock is Redis's own (TIME), so workers with skewed clocks
agree. Each bucket holds at most one minute of budget and refills continuously."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import redis.asyncio as aioredis

# KEYS: request bucket, token bucket. ARGV: rpm, tpm (0 = no limit), requests wanted (a lease
# of up to that many), tokens per request, tokens to give back first (unused estimates).
# Returns {0, granted requests} when at least one was debited, else {ms to wait, 0}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, per_min)
  local v = redis.call('HMGET', key, 'level', 'at')
  local lvl, at = tonumber(v[1]), tonumber(v[2])
  if lvl == nil then return per_min end
  return math.min(per_min, lvl + (now - at) * per_min / 60000)
end
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, per_req, refund = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local grant = want
local wait = 0
local rl, tl = 0, 0
if rpm > 0 then
  rl = level(KEYS[1], rpm)
  grant = math.min(grant, math.floor(rl))
  if rl < 1 then wait = math.max(wait, (1 - rl) * 60000 / rpm) end
end
if tpm > 0 then
  per_req = math.min(per_req, tpm)
  tl = math.min(tpm, level(KEYS[2], tpm) + refund)
  if per_req > 0 then grant = math.min(grant, math.floor(tl / per_req)) end
  if tl < per_req then wait = math.max(wait, (per_req - tl) * 60000 / tpm) end
end
if grant < 1 then
  if tpm > 0 then redis.call('HSET', KEYS[2], 'level', tl, 'at', now) end
  return {math.max(1, math.ceil(wait)), 0}
end
if rpm > 0 then
  redis.call('HSET', KEYS[1], 'level', rl - grant, 'at', now)
  redis.call('PEXPIRE', KEYS[1], 120000)
end
if tpm > 0 then
  redis.call('HSET', KEYS[2], 'level', tl - grant * per_req, 'at', now)
  redis.call('PEXPIRE', KEYS[2], 120000)
end
return {0, grant}
"""


@dataclass(frozen=True)
class Limits:
    """Per-endpoint limits; None or 0 means unlimited."""

    rpm: float | None = None
    tpm: float | None = None

    @property
    def active(self) -> bool:
        return bool(self.rpm) or bool(self.tpm)


@dataclass
class _Lease:
    """Requests and tokens this process took from Redis and has not handed out yet."""

    requests: int = 0
    tokens: int = 0
    refund: int = 0  # tokens estimated but not used, given back on the next trip to Redis
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class TokenBucketLimiter:
    """Async limiter bound to one event loop (the process's judging loop).

    A trip to Redis per request would cost more client CPU than the request itself at a few
    hundred per second, so each process leases at most one second's worth of budget at a
    time (at most `MAX_LEASE` requests) and hands it out locally."""

    MAX_LEASE = 32

    def __init__(self, redis_url: str, *, prefix: str = "evalhub:judge-limit") -> None:
        # Many coroutines share a few connections: callers queue for one rather than fail.
        pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=16, timeout=None)
        self._redis = aioredis.Redis(connection_pool=pool)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._prefix = prefix
        self._leases: dict[str, _Lease] = {}

    def _keys(self, endpoint: str) -> list[str]:
        return [f"{self._prefix}:{endpoint}:req", f"{self._prefix}:{endpoint}:tok"]

    async def try_acquire(
        self, endpoint: str, limits: Limits, tokens: int, *, requests: int = 1, refund: int = 0
    ) -> tuple[int, int]:
        """Debit up to `requests` requests of `tokens` tokens each from the shared buckets.
        Returns (0, granted) on success, else (ms to wait, 0)."""
        wait_ms, granted = await self._acquire(
            keys=self._keys(endpoint),
            args=[limits.rpm or 0, limits.tpm or 0, requests, max(0, tokens), max(0, refund)],
        )
        return int(wait_ms), int(granted)

    def _lease_size(self, limits: Limits, tokens: int) -> int:
        size = self.MAX_LEASE
        if limits.rpm:
            size = min(size, int(limits.rpm / 60))
        if limits.tpm:
            size = min(size, int(limits.tpm / 60 / max(1, tokens)))
        return max(1, size)

    async def acquire(self, endpoint: str, limits: Limits, tokens: int) -> float:
        """Wait until the buckets allow one request of `tokens` tokens. Returns seconds waited."""
        if not limits.active:
            return 0.0
        lease = self._leases.setdefault(endpoint, _Lease())
        waited = 0.0
        while True:
            if lease.requests >= 1 and (not limits.tpm or lease.tokens >= tokens):
                lease.requests -= 1
                lease.tokens -= tokens
                return waited
            async with lease.lock:  # one trip to Redis at a time per endpoint and process
                if lease.requests >= 1 and (not limits.tpm or lease.tokens >= tokens):
                    continue
                refund, lease.refund = lease.refund + max(0, lease.tokens), 0
                lease.requests = lease.tokens = 0
                size = self._lease_size(limits, tokens)
                wait_ms, granted = await self.try_acquire(
                    endpoint, limits, tokens, requests=size, refund=refund
                )
                if granted:
                    lease.requests, lease.tokens = granted, granted * tokens
                    continue
                # Sleep a little past the refill so waiters do not retry in lockstep.
                delay = wait_ms / 1000 + 0.005
                waited += delay
                await asyncio.sleep(delay)

    def settle(self, endpoint: str, limits: Limits, estimated: int, used: int) -> None:
        """Note tokens estimated but not used; they go back with the next lease request."""
        if limits.tpm and estimated > used:
            self._leases.setdefault(endpoint, _Lease()).refund += estimated - used

    async def close(self) -> None:
        await self._redis.aclose()
