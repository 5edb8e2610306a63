"""The instruction-difficulty fit is shared: three studies on one prompt set fit it once, in
a real worker; results requests never wait for it, and it survives a Redis flush."""

from __future__ import annotations

import time

import psycopg
import pytest
import redis
from django.conf import settings

from evalhub.celery import app as celery_app
from evalhub.dashboards.selectors.alpaca_lc import LC_KIND
from evalhub.dashboards.selectors.difficulty import KIND
from evalhub.fits.models import SharedFit
from evalhub.jobs.models import Job
from evalhub.queues import CeleryQueue
from tests.conftest import database_url_for_workers
from tests.evalhub.api.conftest import client_for
from tests.evalhub.dashboards.test_alpaca_lc import _studies, lc_landed
from tests.support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _lc(api, slug: str) -> tuple[dict, float]:
    started = time.perf_counter()
    response = api.get(f"/api/v1/studies/{slug}/results/")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content
    (lc,) = response.json()["length_controlled"]
    return lc, elapsed


def _difficulty_jobs() -> int:
    return Job.objects.filter(kind="fit", params__fit_kind=KIND).count()


def _fit_done() -> bool:
    return SharedFit.objects.filter(kind=KIND, status=SharedFit.Status.DONE).exists()


def _consuming(worker, on: bool) -> None:
    """Stop or restart the worker's consumption of the default queue (no fit job runs)."""
    control = celery_app.control
    call = control.add_consumer if on else control.cancel_consumer
    replies = call(CeleryQueue.DEFAULT.value, destination=[worker.name], reply=True, timeout=10)
    assert replies, "the worker did not answer"


def test_three_studies_share_one_fit_and_requests_never_wait(celery_worker, alice):
    studies = _studies(["m1", "m2", "m3"])
    api = client_for(alice)
    _consuming(celery_worker, on=False)
    try:
        lc, _ = _lc(api, "s-m1")  # queues the fits; nothing consumes them yet
        assert lc["updating"] is True and lc["difficulty_current"] is False
        assert lc["formula"] is None and lc["length_controlled_win_rate"] is None
        assert "a worker is fitting" in lc["formula_note"]
        (fit,) = SharedFit.objects.filter(kind=KIND)
        # Hold the fit's row so the job, once running, cannot store its result yet.
        with psycopg.connect(database_url_for_workers(), autocommit=False) as hold:
            hold.execute("SELECT id FROM fits_sharedfit WHERE id = %s FOR UPDATE", [fit.pk])
            _consuming(celery_worker, on=True)
            wait_until(
                lambda: Job.objects.filter(kind="fit", status="running").exists(), timeout=60
            )
            for slug in ("s-m2", "s-m3"):
                lc, elapsed = _lc(api, slug)
                assert lc["updating"] is True and lc["length_controlled_win_rate"] is None
                assert elapsed < 2, f"a results request waited {elapsed:.1f} s for the fit"
            hold.rollback()
    finally:
        _consuming(celery_worker, on=True)
    wait_until(_fit_done, timeout=60)
    for slug, study in studies.items():
        wait_until(lambda study=study: lc_landed(study), timeout=60)
        lc, _ = _lc(api, f"s-{slug}")
        assert lc["formula"] == "length_controlled_v1", lc
        assert lc["updating"] is False and lc["difficulty_current"] is True
        assert lc["models_for_difficulty"] == ["m1", "m2", "m3"]
    fit.refresh_from_db()
    assert fit.compute_runs == 1
    assert _difficulty_jobs() == 1


def test_a_finished_fit_survives_a_redis_flush(celery_worker, alice):
    studies = _studies(["m1", "m2", "m3"])
    api = client_for(alice)
    _lc(api, "s-m2")
    wait_until(lambda: lc_landed(studies["m2"]), timeout=60)
    before, _ = _lc(api, "s-m2")
    assert before["formula"] == "length_controlled_v1" and before["updating"] is False
    jobs = Job.objects.filter(kind="fit").count()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this worktree's db only
    after, _ = _lc(api, "s-m2")
    assert after == before and after["current"] is True
    assert Job.objects.filter(kind="fit").count() == jobs  # nothing fitted again
    assert _difficulty_jobs() == 1
    assert SharedFit.objects.get(kind=KIND).compute_runs == 1
    lc_fits = SharedFit.objects.filter(kind=LC_KIND, status="done")
    assert lc_fits and {f.compute_runs for f in lc_fits} == {1}


def test_new_judgments_show_the_last_fit_marked_updating_then_the_new_one(celery_worker, alice):
    studies = _studies(["m1", "m2", "m3"])
    api = client_for(alice)
    _lc(api, "s-m3")
    wait_until(lambda: lc_landed(studies["m3"]), timeout=60)
    _consuming(celery_worker, on=False)
    try:
        judgment = studies["m1"].items.first().judgments.first()
        judgment.excluded = True
        judgment.save()
        lc, _ = _lc(api, "s-m3")
        assert lc["formula"] == "length_controlled_v1"
        assert lc["updating"] is True and lc["difficulty_current"] is False
        assert "the last fit" in lc["formula_note"]
    finally:
        _consuming(celery_worker, on=True)
    wait_until(lambda: SharedFit.objects.filter(kind=KIND, status="done").count() == 2, timeout=60)
    wait_until(lambda: lc_landed(studies["m3"]), timeout=60)
    lc, _ = _lc(api, "s-m3")
    assert lc["updating"] is False and lc["difficulty_current"] is True
