"""The Redis client behind Django's cache, one per process.

Django's RedisCache builds a new client object on every call, which costs more than the
INCR or EVALSHA the hot paths (rate limit, stats invalidation) send.

Redis is only a broker and a cache: every caller goes on when it is down (REDIS_ERRORS)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_client: tuple[Any, Any] | None = None  # (the cache backend, its Redis client)


def cache_redis_client() -> Any | None:
    """The process-wide Redis client of the default cache, or None for another backend."""
    global _client
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        return None
    if _client is None or _client[0] is not backend:
        _client = (backend, backend.get_client(None, write=True))
    return _client[1]


# What a Redis outage raises: redis-py's own errors, or the socket's.
REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)
_WARN_EVERY_S = 60.0
_warned: dict[str, float] = {}  # what failed -> when it was last logged (monotonic s)


def redis_unavailable(what: str, exc: BaseException) -> None:
    """Log that Redis failed `what`, at most once a minute per `what` and process: an outage
    touches every request, and one line a minute says as much as thousands."""
    now = time.monotonic()
    if now - _warned.get(what, -_WARN_EVERY_S) >= _WARN_EVERY_S:
        _warned[what] = now
        log.warning("Redis unavailable (%s), going on without it: %s: %s",
                    what, type(exc).__name__, exc)  # fmt: skip
