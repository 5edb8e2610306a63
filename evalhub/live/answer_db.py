"""The live answer path's own PostgreSQL connections: a psycopg async pool per web process,
used on the event loop. Opening a turn stands between the rater and the first token, so its
two statements (evalhub.live.turns' STATE_SQL and OPEN_SQL) run here: no thread hop, no
connect per request, no ORM to compile, and each statement prepared once per connection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.conf import settings
from django.db import connection
from psycopg import OperationalError
from psycopg.conninfo import make_conninfo
from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool

from evalhub.live.errors import LiveInputError
from evalhub.live.turns import ANSWER_RUNNING, OPEN_SQL, STALE_SQL, STATE_SQL, TurnPlan, open_params

# Per event loop (a pool's connections belong to one): the pool being opened or open.
_pools: dict[int, asyncio.Task] = {}


def _conninfo() -> str:
    """Django's own connection parameters (database, user, host, port, password)."""
    params = connection.get_connection_params()
    for own in ("context", "cursor_factory", "prepare_threshold"):  # Django's adapters
        params.pop(own, None)
    return make_conninfo(**params)


async def _open() -> AsyncConnectionPool:
    size = settings.LIVE_DB_CONNECTIONS
    # A streaming row's commit does not wait for the disk (synchronous_commit off): the
    # models are already answering. A crash could lose the last fraction of a second of
    # such rows, never a finished answer (written on Django's own connection, durably).
    pool = AsyncConnectionPool(
        _conninfo(), min_size=size, max_size=size, open=False, name="live-answers",
        kwargs={"autocommit": True, "options": "-c synchronous_commit=off"},
    )  # fmt: skip
    await pool.open()
    return pool


async def _pool() -> AsyncConnectionPool:
    key = id(asyncio.get_running_loop())
    opening = _pools.get(key)
    if opening is None:  # no await before this line: one pool per loop
        opening = _pools[key] = asyncio.ensure_future(_open())
    return await opening


async def close() -> None:
    """Close this event loop's pool (a test's loop ends; a web process keeps its pool)."""
    opening = _pools.pop(id(asyncio.get_running_loop()), None)
    if opening is not None:
        await (await opening).close()


async def _state(params: dict[str, Any]) -> dict[str, Any] | None:
    async with (await _pool()).connection() as conn:
        row = await (await conn.execute(STATE_SQL, params)).fetchone()
    return json.loads(row[0]) if row else None


async def turn_state(params: dict[str, Any]) -> dict[str, Any] | None:
    """STATE_SQL's row (None: no such conversation for this session). A read: run once
    more on a fresh connection if the one it had was lost (the pool drops broken ones)."""
    try:
        return await _state(params)
    except OperationalError:
        return await _state(params)


async def open_rows(plan: TurnPlan) -> list[int]:
    """Write the planned turn's streaming rows (and fail its stale ones): their ids, in
    the plan's side order. LiveInputError when a concurrent send opened this turn first."""
    try:
        async with (await _pool()).connection() as conn:
            if plan.stale:
                async with conn.transaction():
                    await conn.execute(STALE_SQL, {"ids": plan.stale})
                    rows = await (await conn.execute(OPEN_SQL, open_params(plan))).fetchall()
            else:  # one statement: its own transaction, one round trip
                rows = await (await conn.execute(OPEN_SQL, open_params(plan))).fetchall()
    except UniqueViolation as exc:
        raise LiveInputError(ANSWER_RUNNING, status=409) from exc
    return [row[0] for row in rows]
