"""The Redis client behind Django's cache, one per process.

Django's RedisCache builds a new client object on every call, which costs more than the
INCR or EVALSHA the hot paths (rate limit, stats invalidation) send."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

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
