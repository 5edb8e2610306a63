"""Quiet before the flush.

After a transactional test pytest-django empties the database with one TRUNCATE of every
table. Servers outlive the test that used them: the session's live server, its Celery
workers, a module's gunicorn. One of them may still be working for the test that just
ended: a page's last request, or a job the test queued (a dashboard page queues its shared
fit). Such a transaction holds a lock on one table and then asks for one that the TRUNCATE
already holds. PostgreSQL then fails one side ("deadlock detected"); a failed flush leaves
rows for the next test, and work that outlives the flush writes rows into the next test.

So before the flush, `servers_quiet()` waits until:
- the live server has no request in flight (`RequestsInFlight` wraps its application);
- every Celery worker the tests started on this process's broker has an empty queue and
  answers a ping (a `--pool solo` worker answers only between tasks);
- no other connection to the test database is inside a statement or a transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tests.support import wait_until

# A flush waits at most this long for the servers to finish: a task may be a real vLLM
# generation on a loaded machine.
QUIET_TIMEOUT_S = 180

# Celery workers started by the tests on this process's broker: name -> (their queues,
# whether the process still runs).
_workers: dict[str, tuple[list[str], Callable[[], bool]]] = {}


def worker_started(name: str, queues: list[str], alive: Callable[[], bool]) -> None:
    _workers[name] = (list(queues), alive)


def worker_gone(name: str) -> None:
    _workers.pop(name, None)


class RequestsInFlight:
    """A WSGI application wrapper that counts the requests not yet finished (the response
    closed: Django sends `request_finished`, which ends the request's database work)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.count = 0
        self._lock = threading.Lock()

    def _add(self, n: int) -> None:
        with self._lock:
            self.count += n

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self._add(1)
        try:
            response = self.app(environ, start_response)
        except BaseException:
            self._add(-1)
            raise
        return _ClosingResponse(response, lambda: self._add(-1))


class _ClosingResponse:
    """The response as it was, with one more thing done when the server closes it."""

    def __init__(self, response: Any, done: Callable[[], None]) -> None:
        self.response = response
        self.done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.response)

    def __getattr__(self, name: str) -> Any:  # file_wrapper, status_code, ...
        return getattr(self.response, name)

    def close(self) -> None:
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.done()


live_requests: RequestsInFlight | None = None


def _queues_empty() -> bool:
    import redis
    from django.conf import settings

    queues = {q for queues, _ in _workers.values() for q in queues}
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
    return not any(client.llen(queue) for queue in queues)


def _workers_idle() -> bool:
    from evalhub.celery import app

    names = list(_workers)
    replies = app.control.ping(destination=names, timeout=1)
    return {name for reply in replies for name in reply} >= set(names)


def _database_busy() -> list[tuple[Any, ...]]:
    """Other connections to this test database inside a statement or a transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND state <> 'idle'"
        )
        return cursor.fetchall()


def servers_quiet(timeout: float = QUIET_TIMEOUT_S) -> None:
    """Wait until no server the tests started has work left on the test database."""
    seen: dict[str, Any] = {}

    def quiet() -> bool:
        if live_requests is not None and live_requests.count:
            seen["last"] = f"{live_requests.count} live-server request(s) in flight"
            return False
        for name, (_, alive) in list(_workers.items()):
            if not alive():  # a worker that died has nothing left to do
                worker_gone(name)
        # Empty queues first: a worker that then answers a ping has run what it took.
        if _workers and not (_queues_empty() and _workers_idle()):
            seen["last"] = f"Celery workers busy: {sorted(_workers)}"
            return False
        busy = _database_busy()
        seen["last"] = f"database connections busy: {busy}"
        return not busy

    try:
        wait_until(quiet, timeout=timeout, interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"servers still working before the flush: {seen['last']}") from exc
