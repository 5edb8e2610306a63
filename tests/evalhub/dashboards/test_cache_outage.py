"""The stats cache with Redis unreachable: nothing fails, nothing stale comes back."""

from __future__ import annotations

import asyncio

import pytest
from django.core.cache import cache

from evalhub.dashboards.cache import GLOBAL_SCOPE, cached_stats, study_stats_invalidate
from evalhub.dashboards.models import StatsEpoch
from evalhub.rating.limits import event_count_async, over_limit
from tests.faults import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings) -> None:
    """The default cache points at a port where nothing listens."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_an_invalidation_redis_misses_moves_the_epochs_in_postgres(redis_down):
    study_stats_invalidate(4301)
    study_stats_invalidate(4301)
    epochs = dict(StatsEpoch.objects.values_list("scope", "epoch"))
    assert epochs["4301"] == 3 and epochs[GLOBAL_SCOPE] >= 3


def test_results_are_computed_without_the_cache(redis_down):
    calls = []
    assert cached_stats(4302, {}, lambda: calls.append(1) or {"wins": 1}) == {"wins": 1}
    assert cached_stats(4302, {}, lambda: calls.append(1) or {"wins": 2}) == {"wins": 2}
    assert len(calls) == 2


def test_the_entry_limit_fails_open(redis_down, caplog):
    assert not any(over_limit("entry:outage", limit=1) for _ in range(3))
    warnings = [r for r in caplog.records if "Redis unavailable (rate limit)" in r.getMessage()]
    assert len(warnings) <= 1  # once a minute, not once a request


def test_the_live_message_count_fails_open(redis_down):
    assert asyncio.run(event_count_async("live:outage")) is None


def test_results_cached_before_a_missed_invalidation_are_not_served():
    cache.clear()
    assert cached_stats(4303, {}, lambda: {"n": 1}) == {"n": 1}
    StatsEpoch.objects.create(scope="4303", epoch=2)  # what a missed bump leaves behind
    assert cached_stats(4303, {}, lambda: {"n": 2}) == {"n": 2}
