"""Re-running work once on a fresh PostgreSQL connection when the one it ran on was lost
(a failover, a restart, a connection pooler, `pg_terminate_backend`).

Only work that is safe to run twice is wrapped: the rating loop's statements and pages, whose
writes the assignment token and the session's state guard (a re-run of something that did
commit finds the session moved on and writes nothing). Django's connection health checks
(CONN_HEALTH_CHECKS) catch a connection that died between requests, on the first ORM query
of the next; this catches one that dies under a statement, and the rating loop's prepared
statements, which skip the health check's round trip. Wrapped work skips it altogether (its
ORM queries and transactions too): the re-run on a new connection does what the check's
`SELECT 1` would, for one round trip less on every request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def connection_lost() -> bool:
    """Whether Django's connection is gone or broken (not merely a failed statement)."""
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))


def rerun_once_if_disconnected(work: Callable[P, T]) -> Callable[P, T]:
    """`work`, run once more on a new connection if it failed because the connection was
    lost. Inside a transaction it runs as is: the transaction's effects are gone with the
    connection, so only its outermost caller (wrapped too) can run it again."""

    @wraps(work)
    def rerun(*args: P.args, **kwargs: P.kwargs) -> T:
        if connection.in_atomic_block:
            return work(*args, **kwargs)
        connection.health_check_done = True  # a lost connection is caught below instead
        try:
            return work(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or not connection_lost():
                raise
            log.warning("database connection lost in %s, running it again on a new one: %s",
                        work.__qualname__, exc)  # fmt: skip
            connection.close()  # the next statement connects afresh (and re-prepares)
            return work(*args, **kwargs)

    return rerun
