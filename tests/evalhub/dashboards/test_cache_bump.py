"""The stats version bump every judgment write runs: one EVALSHA by the script's sha, which
loads the script again when Redis no longer has it."""

import time
import uuid

from django.core.cache import cache

from evalhub.cache_redis import cache_redis_client
from evalhub.dashboards import cache as stats_cache
from evalhub.dashboards.cache import GLOBAL_SCOPE, stats_version, study_stats_invalidate


def test_a_bump_moves_the_study_and_the_global_versions():
    before = stats_version(4242), stats_version(GLOBAL_SCOPE)
    study_stats_invalidate(4242)
    study_stats_invalidate(4242)  # the keys made once, used again
    assert stats_version(4242) == before[0] + 2
    assert stats_version(GLOBAL_SCOPE) >= before[1] + 2  # other writers may bump it too


def test_a_script_redis_does_not_have_is_loaded_again(monkeypatch):
    client = cache_redis_client()
    # A script Redis has never seen (as after a restart): its sha is unknown to Redis.
    fresh = client.register_script(stats_cache._BUMP_ALL + f"-- {uuid.uuid4()}\n")
    assert client.script_exists(fresh.sha) == [False]
    monkeypatch.setattr(stats_cache, "_script", (client, fresh, {}))
    before = stats_version(4243)
    study_stats_invalidate(4243)
    assert stats_version(4243) == before + 1
    assert client.script_exists(fresh.sha) == [True]


def test_a_counter_redis_lost_starts_again_from_the_clock():
    study_stats_invalidate(4244)
    cache.delete(stats_cache._version_key(4244))  # evicted
    before_ms = int(time.time() * 1000)
    study_stats_invalidate(4244)
    # From the clock (ms), not 1: versions cached before the eviction never come back.
    started = stats_version(4244)
    assert before_ms - 5000 <= started <= int(time.time() * 1000) + 5000
    study_stats_invalidate(4244)
    assert stats_version(4244) == started + 1
