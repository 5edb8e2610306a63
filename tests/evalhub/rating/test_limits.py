"""The per-participant rate limit on Redis, counted from a thread or on an event loop."""

from __future__ import annotations

import asyncio
import secrets

from evalhub.rating.limits import event_count, event_count_async


def test_the_event_loop_count_and_the_thread_count_share_one_window():
    key = f"live:{secrets.token_hex(8)}"

    async def twice() -> list[int | None]:
        return [await event_count_async(key), await event_count_async(key)]

    assert asyncio.run(twice()) == [1, 2]
    assert event_count(key) == 3
    assert asyncio.run(event_count_async(key)) == 4  # a new loop gets its own connection
