"""Concurrent cold requests for the same stats compute them once (a short Redis lock)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache

from evalhub.dashboards.cache import cached_stats
from tests.support import wait_until

# Keys include the scope's epoch in PostgreSQL; the threads read it on their own connections.
pytestmark = pytest.mark.django_db(transaction=True)


def _scope() -> str:
    return f"lock-test-{uuid.uuid4().hex}"  # a fresh version counter per test


def test_concurrent_cold_requests_compute_once(monkeypatch):
    scope, calls, results = _scope(), [], []
    started = threading.Event()
    refused: list[str] = []  # lock keys the real Redis refused (SET NX found them held)
    real_add = RedisCache.add

    def add(self, key, *args, **kwargs) -> bool:
        added = real_add(self, key, *args, **kwargs)
        if not added:
            refused.append(key)
        return added

    monkeypatch.setattr(RedisCache, "add", add)  # watched on every thread's cache client

    def compute() -> dict:
        calls.append(threading.get_ident())
        started.set()
        # A slow cold compute: it ends only once the other request found the lock held.
        wait_until(lambda: refused, timeout=30, interval=0.01)
        return {"wins": 3}

    def request() -> None:
        results.append(cached_stats(scope, {"groups": None}, compute))

    first = threading.Thread(target=request)
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=request)
    second.start()
    first.join(60)
    second.join(60)
    assert len(calls) == 1 and len(refused) == 1
    assert results == [{"wins": 3}, {"wins": 3}]


def test_a_failed_holder_lets_the_waiter_compute():
    scope, started, release = _scope(), threading.Event(), threading.Event()
    errors: list[Exception] = []

    def failing() -> dict:
        started.set()
        release.wait(5)
        raise RuntimeError("database went away")

    def request() -> None:
        try:
            cached_stats(scope, {}, failing)
        except RuntimeError as error:
            errors.append(error)

    holder = threading.Thread(target=request)
    holder.start()
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    # Waits on the lock, sees it released without a value, and computes itself.
    assert cached_stats(scope, {}, lambda: {"wins": 1}) == {"wins": 1}
    holder.join(10)
    assert len(errors) == 1
    assert cached_stats(scope, {}, lambda: pytest.fail("should be cached")) == {"wins": 1}
