"""A per-participant rate limit on Redis: a fixed one-minute window, one round trip
(a pipeline would cost more CPU to build than it saves). Used for entries, before there is
a session; answers are counted on their session's row (`rating_limit_count` in
evalhub.rating.statements), which the answer writes anyway.

It fails open: with Redis down nobody is limited (a warning is logged once a minute), since
a participant turned away is lost, and the limit only guards against floods."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from evalhub.cache_redis import REDIS_ERRORS, cache_redis_client, redis_unavailable


def over_limit(key: str, *, limit: int, window_s: int = 60) -> bool:
    """Count one event for `key`; True when this window already had `limit` of them.
    False, counting nothing, while Redis is unreachable."""
    if limit <= 0:
        return False
    count = event_count(key, window_s=window_s)
    return count is not None and count > limit


def event_count(key: str, *, window_s: int = 60) -> int | None:
    """Count one event for `key`: this window's events so far, or None (counting nothing)
    while Redis is unreachable. For callers that learn the limit later (the live answer
    path counts while it reads its study)."""
    try:
        return _count(key, window_s=window_s)
    except REDIS_ERRORS as exc:
        redis_unavailable("rate limit", exc)
        return None


def _count(key: str, *, window_s: int) -> int:
    window = int(time.time() // window_s)
    name = cache.make_and_validate_key(f"rl:{key}:{window}")
    client = cache_redis_client()
    if client is None:  # another cache backend: two calls instead of one
        cache.add(name, 0, timeout=window_s * 2)
        return int(cache.incr(name))
    count = int(client.incr(name))
    if count == 1:  # first event of the window: let the key expire after it
        client.expire(name, window_s * 2)
    return count


# Per event loop and Redis URL (a redis.asyncio connection belongs to one loop): the loop
# is kept with its client, so a new loop that reuses a dead one's id gets its own.
_async_clients: dict[tuple[int, str], tuple[asyncio.AbstractEventLoop, Any]] = {}


def _async_client() -> Any:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    loop, location = asyncio.get_running_loop(), settings.CACHES["default"]["LOCATION"]
    found = _async_clients.get((id(loop), location))
    if found is None or found[0] is not loop:
        options = settings.CACHES["default"].get("OPTIONS", {})
        client = Redis.from_url(
            location,
            socket_connect_timeout=options.get("socket_connect_timeout"),
            socket_timeout=options.get("socket_timeout"),
            # As the cache's client: one immediate retry on a new connection after a restart.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        found = _async_clients[(id(loop), location)] = (loop, client)
    return found[1]


async def event_count_async(key: str, *, window_s: int = 60) -> int | None:
    """event_count on the running event loop (redis.asyncio): no thread hop, which under
    load waits for the GIL behind the loop's own work. Same key, window and fail-open;
    another cache backend counts in a thread."""
    if cache_redis_client() is None:
        return await asyncio.to_thread(event_count, key, window_s=window_s)
    window = int(time.time() // window_s)
    name = cache.make_and_validate_key(f"rl:{key}:{window}")
    try:
        client = _async_client()
        count = int(await client.incr(name))
        if count == 1:  # first event of the window: let the key expire after it
            await client.expire(name, window_s * 2)
        return count
    except REDIS_ERRORS as exc:
        redis_unavailable("rate limit", exc)
        return None
