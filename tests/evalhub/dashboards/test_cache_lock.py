"""Concurrent cold requests for the same stats compute them once (a short Redis lock)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from evalhub.dashboards.cache import cached_stats

# Keys include the scope's epoch in PostgreSQL; the threads read it on their own connections.
pytestmark = pytest.mark.django_db(transaction=True)


def _scope() -> str:
    return f"lock-test-{uuid.uuid4().hex}"  # a fresh version counter per test


def test_concurrent_cold_requests_compute_once():
    scope, calls, results = _scope(), [], []
    started = threading.Event()

    def compute() -> dict:
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.5)  # a slow cold compute; the other request arrives meanwhile
        return {"wins": 3}

    def request() -> None:
        results.append(cached_stats(scope, {"groups": None}, compute))

    first = threading.Thread(target=request)
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=request)
    second.start()
    first.join(10)
    second.join(10)
    assert len(calls) == 1
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
