"""/healthz: what answers and what is degraded, as JSON.

PostgreSQL is the source of truth: without it nothing works, and only then is the answer
503, so a load balancer takes the web tier out. Redis is the broker and the cache; without
it raters go on (rate limits fail open, results are computed uncached, jobs wait queued in
PostgreSQL), so a Redis outage is reported as "degraded" with 200. "workers" lists, per
queue, the Celery workers whose heartbeat was heard in the last seconds (evalhub.workers)."""

from __future__ import annotations

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from evalhub.cache_redis import cache_redis_client
from evalhub.workers import workers_by_queue

_TIMEOUT_S = 1.0  # a health check that hangs is as bad as one that fails


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:  # any failure means "not healthy", with the reason
        connection.close()  # a broken connection must not serve the next request
        return False, f"{type(exc).__name__}: {exc}"


def _broker_ok() -> tuple[bool, str]:
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=_TIMEOUT_S,
            socket_connect_timeout=_TIMEOUT_S, retry=Retry(NoBackoff(), 0),
        )  # fmt: skip
        try:
            client.ping()
        finally:
            client.close()
        return True, "redis"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _cache_ok() -> tuple[bool, str]:
    try:
        client = cache_redis_client()
        if client is None:
            cache.get("healthz")
            return True, "cache"
        client.ping()
        return True, "redis"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _workers() -> dict[str, list[str]] | None:
    """{queue: [worker hostnames]} from the workers' heartbeats; None without Redis."""
    try:
        return workers_by_queue()
    except Exception:  # reported under "broker" already
        return None


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _database_ok(),
        "broker": _broker_ok(),
        "cache": _cache_ok(),
    }
    db_ok = checks["database"][0]
    degraded = [name for name, (ok, _) in checks.items() if not ok]
    status = "unavailable" if not db_ok else "degraded" if degraded else "ok"
    return JsonResponse(
        {
            "status": status,
            "degraded": degraded,
            **{name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
            # Not part of "status": a deployment may run no generation or training worker.
            "workers": _workers(),
        },
        status=200 if db_ok else 503,
    )
