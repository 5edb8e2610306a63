"""Per-study stats cache (Django cache, Redis in deployments) with version counters.

Each study has a version key; cached results are stored under keys that include the version,
so bumping it (one INCR) makes every cached variant of that study's results stale at once,
whatever filters they were computed for. The global leaderboard has one version of its own,
bumped by every judgment write. Stale entries simply expire (RESULTS_TTL_SECONDS).

Redis is only a cache here. When a bump cannot reach it, the scope's epoch in PostgreSQL
(StatsEpoch) moves instead, and keys include that epoch too: whatever Redis held before is
never served again once it is back. While it is down, results are computed on every read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import F
from redis.exceptions import NoScriptError

from evalhub.cache_redis import REDIS_ERRORS, cache_redis_client, redis_unavailable
from evalhub.dashboards.models import StatsEpoch

log = logging.getLogger(__name__)

T = TypeVar("T")

RESULTS_TTL_SECONDS = 24 * 3600
# A cold study computes in ~1-2 s; the lock only has to outlive that, and expires by itself
# if its holder dies.
COMPUTE_LOCK_SECONDS = 30
LOCK_POLL_SECONDS = 0.05
GLOBAL_SCOPE = "global"


def _clock_ms() -> int:
    return int(time.time() * 1000)


def _version_key(scope: int | str) -> str:
    return f"dashboards:stats-version:{scope}"


def stats_version(scope: int | str) -> int:
    """The current version of a study's stats (scope = study id) or of GLOBAL_SCOPE; 0 while
    Redis is unreachable."""
    try:
        return _redis_version(scope)
    except REDIS_ERRORS as exc:
        redis_unavailable("dashboards cache", exc)
        return 0


def _redis_version(scope: int | str) -> int:
    key = _version_key(scope)
    version = cache.get(key)
    if version is None:
        # Start from the clock (ms), not 1: if the counter was evicted, old entries stay
        # unreachable. Milliseconds keep it exact as a JavaScript number.
        cache.add(key, _clock_ms(), timeout=None)
        version = cache.get(key)
    return int(version)


def _bump(scope: int | str) -> None:
    key = _version_key(scope)
    try:
        cache.incr(key)
    except ValueError:  # no counter yet: nothing cached under it can be current
        cache.add(key, _clock_ms(), timeout=None)


# Both counters in one round trip: INCR each, or start a missing one from the clock (ms), as
# `_bump` does (Redis's clock here). Every judgment write runs this: see `_redis_bump`.
_BUMP_ALL = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCR', key)
  else
    local now = redis.call('TIME')
    redis.call('SET', key, string.format('%d', now[1] * 1000 + math.floor(now[2] / 1000)))
  end
end
"""
# (the Redis client, the bump script registered on it, each scope's keys and bump command
# made for it)
_script: tuple[Any, Any, dict] | None = None


def _bump_script() -> Any | None:
    """The bump script registered on this process's Redis client, or None for a cache
    backend other than Redis."""
    global _script
    client = cache_redis_client()
    if client is None:
        return None
    if _script is None or _script[0] is not client:
        _script = (client, client.register_script(_BUMP_ALL), {})
    return _script[1]


def study_stats_invalidate(study_id: int) -> None:
    """Mark a study's cached stats (and the global leaderboard) stale. Never raises: with
    Redis down, the scopes' epochs in PostgreSQL move instead (an answer must not fail
    because a cache did).

    Called by the Judgment signals; services that write judgments with bulk_create,
    queryset.update or raw SQL (no signals) must call it themselves, after their
    transaction commits.
    """
    try:
        _redis_bump(study_id)
    except REDIS_ERRORS as exc:
        redis_unavailable("stats invalidation", exc)
        try:
            _epochs_bump([str(study_id), GLOBAL_SCOPE])
        except DatabaseError:  # both stores down: nothing left to mark the results with
            log.exception("stats of study %s may be stale: neither Redis nor the database "
                          "took the invalidation", study_id)  # fmt: skip


def _epochs_bump(scopes: list[str]) -> None:
    for scope in scopes:
        if not StatsEpoch.objects.filter(scope=scope).update(epoch=F("epoch") + 1):
            StatsEpoch.objects.get_or_create(scope=scope, defaults={"epoch": 2})


def _epoch(scope: int | str) -> int:
    """The scope's epoch in PostgreSQL (1 until a bump missed Redis)."""
    found = StatsEpoch.objects.filter(scope=str(scope)).values_list("epoch", flat=True)
    return next(iter(found), 1)


def _redis_bump(study_id: int) -> None:
    script = _bump_script()
    if script is None:
        _bump(study_id)
        _bump(GLOBAL_SCOPE)
        return
    # The keys and the EVALSHA, made once per study and sent as they are on a connection of
    # the client's pool: redis-py's command path would cost the bump twice its CPU.
    made = _script[2]
    pool = script.registered_client.connection_pool
    connection = pool.get_connection()
    try:
        if study_id not in made:
            made[study_id] = _bump_command(connection, script.sha, study_id)
        keys, command = made[study_id]
        connection.send_packed_command(command)
        connection.read_response()
    except NoScriptError:  # Redis restarted or flushed its scripts: load it again
        script(keys=keys)
    except BaseException:  # as redis-py does: a connection that failed is not used again
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def _bump_command(connection: Any, sha: str, study_id: int) -> tuple[list[str], list[bytes]]:
    keys = [cache.make_and_validate_key(_version_key(s)) for s in (study_id, GLOBAL_SCOPE)]
    return keys, connection.pack_command("EVALSHA", sha, len(keys), *keys)


def cached_stats(scope: int | str, variant: dict[str, Any], compute: Callable[[], T]) -> T:
    """`compute()` cached under (scope, its current versions, variant); computed afresh on
    every call while Redis is unreachable.

    On a miss one caller computes while holding a short lock (cache.add, atomic SET NX in
    Redis); concurrent callers for the same key wait for its value instead of computing it
    again. A waiter computes itself if the lock goes away without a value (the holder
    failed) or after COMPUTE_LOCK_SECONDS.
    """
    digest = hashlib.sha256(json.dumps(variant, sort_keys=True).encode()).hexdigest()[:16]
    try:
        version = _redis_version(scope)
    except REDIS_ERRORS as exc:
        redis_unavailable("dashboards cache", exc)
        return compute()
    key = f"dashboards:stats:{scope}:{version}.{_epoch(scope)}:{digest}"
    lock = f"{key}:computing"
    try:
        found = cache.get(key)
        if found is not None:
            return found["value"]
        if not cache.add(lock, 1, timeout=COMPUTE_LOCK_SECONDS):
            deadline = time.monotonic() + COMPUTE_LOCK_SECONDS
            while time.monotonic() < deadline:
                time.sleep(LOCK_POLL_SECONDS)
                found, held = cache.get_many([key, lock]).get(key), cache.get(lock)
                if found is not None:
                    return found["value"]
                if held is None:
                    break
    except REDIS_ERRORS as exc:
        redis_unavailable("dashboards cache", exc)
        return compute()
    try:
        value = compute()
        # Wrapped, so that a computed None is cached too.
        _quietly(lambda: cache.set(key, {"value": value}, timeout=RESULTS_TTL_SECONDS))
    finally:
        _quietly(lambda: cache.delete(lock))
    return value


def _quietly(call: Callable[[], Any]) -> None:
    """A cache write that may miss: the value is computed, and Redis going away now only
    means the next reader computes it too."""
    try:
        call()
    except REDIS_ERRORS as exc:
        redis_unavailable("dashboards cache", exc)
