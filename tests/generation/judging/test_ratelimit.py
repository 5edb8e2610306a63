"""The Redis token bucket: one budget shared by every limiter (every worker) on an endpoint."""

import asyncio
import time
import uuid

from django.conf import settings

from generation.judging.ratelimit import Limits, TokenBucketLimiter


def endpoint() -> str:
    return f"test-{uuid.uuid4().hex}"


async def both(fn):
    # Two limiters with their own connections stand in for two worker processes.
    a, b = TokenBucketLimiter(settings.REDIS_URL), TokenBucketLimiter(settings.REDIS_URL)
    try:
        return await fn(a, b)
    finally:
        await a.close()
        await b.close()


def test_requests_per_minute_are_shared_between_workers():
    ep, limits = endpoint(), Limits(rpm=4)

    async def scenario(a, b):
        grants = [await (a if i % 2 else b).try_acquire(ep, limits, 0) for i in range(4)]
        return grants, await a.try_acquire(ep, limits, 0), await b.try_acquire(ep, limits, 0)

    grants, fifth_a, fifth_b = asyncio.run(both(scenario))
    assert grants == [(0, 1)] * 4
    # The bucket refills one request per 15 s at 4/min: both workers must wait about that.
    assert 14_000 <= fifth_a[0] <= 15_001 and fifth_a[1] == 0
    assert 14_000 <= fifth_b[0] <= 15_001 and fifth_b[1] == 0


def test_tokens_per_minute_bound_large_requests_and_unused_tokens_come_back():
    ep, limits = endpoint(), Limits(tpm=1000)

    async def scenario(a, b):
        first = await a.try_acquire(ep, limits, 600)
        second = await b.try_acquire(ep, limits, 600)
        # The first call used 100 of its 600 estimated tokens: 500 come back with the next ask.
        third = await b.try_acquire(ep, limits, 600, refund=500)
        return first, second, third

    first, second, third = asyncio.run(both(scenario))
    assert first == (0, 1)
    assert 11_000 <= second[0] <= 12_001 and second[1] == 0  # 200 missing at 1000/min
    assert third == (0, 1)


def test_acquire_waits_for_the_refill_and_unlimited_never_touches_redis():
    ep, limits = endpoint(), Limits(rpm=60)  # one request a second, leases of one

    async def scenario(a, b):
        for _ in range(60):
            assert await a.try_acquire(ep, limits, 0) == (0, 1)
        waited = await b.acquire(ep, limits, 0)
        unlimited = await b.acquire(ep, Limits(), 10**9)
        return waited, unlimited

    waited, unlimited = asyncio.run(both(scenario))
    assert waited > 0
    assert unlimited == 0.0


def test_a_process_leases_at_most_a_second_of_budget_and_hands_it_out_locally():
    ep, limits = endpoint(), Limits(rpm=6000)  # 100 a second -> leases of 32 at most

    async def scenario(a, b):
        started = time.monotonic()
        for _ in range(32):
            assert await a.acquire(ep, limits, 0) == 0.0
        _, left = await b.try_acquire(ep, limits, 0, requests=10_000)
        return left, time.monotonic() - started

    left, seconds = asyncio.run(both(scenario))
    # One lease of 32 served all 32 requests; the rest of the minute's budget (plus what
    # refilled meanwhile at 100/s) is left for every other worker.
    assert 6000 - 32 <= left <= 6000 - 32 + 100 * seconds + 1
