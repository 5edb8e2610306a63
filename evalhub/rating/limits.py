"""A per-participant rate limit on Redis: a fixed one-minute window, one round trip
(a pipeline would cost more CPU to build than it saves)."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

_client: tuple[Any, Any] | None = None  # (the cache backend's client, its Redis client)


def _redis() -> Any | None:
    """One Redis client for this process (the backend builds a new one per call, which
    costs more than the INCR itself), or None for a cache backend other than Redis."""
    global _client
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        return None
    if _client is None or _client[0] is not backend:
        _client = (backend, backend.get_client(None, write=True))
    return _client[1]


def over_limit(key: str, *, limit: int, window_s: int = 60) -> bool:
    """Count one event for `key`; True when this window already had `limit` of them."""
    if limit <= 0:
        return False
    window = int(time.time() // window_s)
    name = cache.make_and_validate_key(f"rl:{key}:{window}")
    client = _redis()
    if client is None:  # another cache backend: two calls instead of one
        cache.add(name, 0, timeout=window_s * 2)
        return cache.incr(name) > limit
    count = int(client.incr(name))
    if count == 1:  # first event of the window: let the key expire after it
        client.expire(name, window_s * 2)
    return count > limit
