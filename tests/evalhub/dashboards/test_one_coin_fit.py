"""The default reliability-weighted aggregate reads a one-coin fit that a real worker makes
once per fingerprint of the study's data (evalhub.dashboards.one_coin_fit): a results
request never fits it, says "reliability-weighted: updating" with the majority over every
item until the worker lands it, then shows exactly the direct computation; a Redis flush
loses nothing, and a wrong stored fit is ignored (and fitted again), never a 500."""

from __future__ import annotations

import time

import numpy as np
import pytest
import redis
from django.conf import settings

from evalhub.crowd.services import raters_exclude
from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.crowd_fit import ONE_COIN_KIND, SCALES, valid_verdicts
from evalhub.dashboards.selectors.crowd_quality import gold_right
from evalhub.fits.models import SharedFit
from evalhub.jobs.models import Job
from evalhub.stats.crowd_aggregate import caution, reliability_weighted
from evalhub.stats.crowd_flags import QUALITY_DEFAULTS, crowd_flags
from evalhub.stats.dawid_skene import majority_vote
from evalhub.stats.one_coin import one_coin_dawid_skene
from evalhub.studies.models import Judgment
from tests.evalhub.api.conftest import client_for
from tests.evalhub.crowd.fixtures import crowd_study_fixture  # noqa: F401
from tests.evalhub.dashboards.test_difficulty_fit import _consuming
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
from tests.support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
NAMES = ("loss", "tie", "win")


def _direct(study) -> tuple[dict[int, int], dict[int, float]]:
    """By hand from the stats functions, no stored fit: {item id: reliability-weighted
    class} and {item id: majority class (NaN: split)} over every valid verdict."""
    data = valid_verdicts(study)
    rater_ids, rater_code = np.unique(data.rater, return_inverse=True)
    item_ids, item_code = np.unique(data.item, return_inverse=True)
    fit = one_coin_dawid_skene(data.item, rater_code, data.label, n_classes=3)
    flags = crowd_flags(
        n_raters=rater_ids.size, rater=rater_code, item=data.item, label=data.label,
        sided=np.isin(data.raw_choice, ("A", "B")), chose_left=data.raw_choice == "A",
        time_ms=data.time_ms, fit=fit, gold_right=gold_right(study, data),
        rules=QUALITY_DEFAULTS,
    )  # fmt: skip
    confidence, margin = caution(study.raters_per_item)
    weighted = reliability_weighted(
        item_code, data.rater, data.label, n_items=item_ids.size,
        flagged_rater=rater_ids[flags.flagged], tie_class=SCALES[study.kind][2],
        confidence=confidence, min_margin=margin,
    )  # fmt: skip
    majority = majority_vote(item_code, data.label, item_ids.size, 3, tie_class=1)
    ids = item_ids.tolist()
    return dict(zip(ids, weighted.label.tolist(), strict=True)), dict(
        zip(ids, majority.tolist(), strict=True)
    )


def _shares(classes: list[float]) -> dict[str, float]:
    known = [c for c in classes if c == c]  # NaN: a split without a tie class
    return {name: sum(1 for c in known if c == k) / len(known) for k, name in enumerate(NAMES)}


def _results(api, slug: str) -> tuple[dict, float]:
    started = time.perf_counter()
    response = api.get(f"/api/v1/studies/{slug}/results/")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content
    return response.json()["aggregation"], elapsed


def _default(block: dict) -> dict:
    """The block without the Dawid-Skene option, whose own worker fit lands when it may."""
    rows = [{k: v for k, v in r.items() if k != "dawid_skene"} for r in block["rows"]]
    return {"state": block["state"], "method": block["method"], "rows": rows}


def _fit_current(api, study) -> bool:
    """The results show the worker's fit for the current data."""
    return _results(api, study.slug)[0]["state"] == "current"


def _exclude_some(study, made) -> None:
    """New data (a fresh fingerprint): two always-left raters excluded."""
    raters_exclude(study=study, rater_ids=made["left"][:2], reason="left")


def test_a_pending_fit_shows_the_majority_over_all_items_then_the_workers_fit(
    celery_worker, client, alice, crowd_study
):
    study, made = crowd_study
    api = client_for(alice)
    _results(api, study.slug)  # this process's first results: imports, not fits
    _exclude_some(study, made)
    weighted, majority = _direct(study)
    _consuming(celery_worker, on=False)  # the fit job waits, so the pending state holds
    try:
        block, elapsed = _results(api, study.slug)
        assert elapsed < 2, f"a results request took {elapsed:.1f} s"
        (row,) = block["rows"]
        assert block["state"] == "updating" and row["reliability_weighted"] is None
        assert block["method"].startswith("reliability-weighted: updating")
        # The majority over every item with valid verdicts, exactly.
        assert row["items"] == len(majority) == 100
        assert row["majority"] == pytest.approx(_shares(list(majority.values())))
        (pending,) = SharedFit.objects.filter(kind=ONE_COIN_KIND, status="pending")
        assert pending.compute_runs == 0  # nothing was fitted in the request
        client.force_login(alice)
        page = client.get(f"/dashboards/studies/{study.slug}/")
        assert page.status_code == 200
        assert "reliability-weighted: updating" in page.content.decode()
        raters = api.get(f"/api/v1/studies/{study.slug}/raters/?page_size=100").json()
        assert raters["reliability_state"] == "updating"
        assert all(r["reliability"] is None for r in raters["results"])
        labels = api.get(f"/api/v1/studies/{study.slug}/items/labels/?page_size=1000").json()
        assert {r["reliability_weighted_state"] for r in labels["results"]} == {"updating"}
        assert {r["reliability_weighted"] for r in labels["results"]} == {None}
        # "Every flagged rater" would miss whom the spam test flags: refused until it lands.
        url = f"/api/v1/studies/{study.slug}/raters/exclude/"
        refused = api.post(url, {"flagged": True, "reason": "rules"}, format="json")
        assert refused.status_code == 409 and "updating" in refused.json()["detail"]
    finally:
        _consuming(celery_worker, on=True)
    wait_until(lambda: _fit_current(api, study), timeout=120, interval=0.3)
    block, _ = _results(api, study.slug)
    (row,) = block["rows"]
    assert block["state"] == "current" and not block["method"].endswith("meanwhile)")
    assert row["reliability_weighted"] == pytest.approx(_shares(list(weighted.values())))
    labels = api.get(f"/api/v1/studies/{study.slug}/items/labels/?page_size=1000").json()
    name = {0: "baseline", 1: "tie", 2: "target"}
    assert {r["item"]: r["reliability_weighted"] for r in labels["results"]} == {
        item: name[c] for item, c in weighted.items()
    }
    raters = api.get(f"/api/v1/studies/{study.slug}/raters/?page_size=100").json()
    assert raters["reliability_state"] == "current"
    kept = [r for r in raters["results"] if not r["excluded"]]
    assert len(kept) == 22 and all(r["reliability"] is not None for r in kept)
    # Two fits in all, each made once: the fixture's, and the worker's after the exclusion.
    fits = SharedFit.objects.filter(kind=ONE_COIN_KIND).order_by("id")
    assert [(f.status, f.compute_runs) for f in fits] == [("done", 1), ("done", 1)]


def test_a_redis_flush_keeps_a_finished_fit(celery_worker, alice, crowd_study):
    study, made = crowd_study
    api = client_for(alice)
    _exclude_some(study, made)
    _results(api, study.slug)
    wait_until(lambda: _fit_current(api, study), timeout=120, interval=0.3)
    before, _ = _results(api, study.slug)
    jobs = Job.objects.filter(kind="fit").count()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this test's own db only
    after, _ = _results(api, study.slug)
    assert _default(after) == _default(before) and after["state"] == "current"
    assert Job.objects.filter(kind="fit").count() == jobs  # nothing queued again
    done = SharedFit.objects.filter(kind=ONE_COIN_KIND, status="done")
    assert sum(done.values_list("compute_runs", flat=True)) == done.count()


@pytest.mark.parametrize(
    "wrong",
    [
        "not a fit at all",
        {"format": "one-coin-v2", "study": 10**9},
        "alien items",
        "other flags",
    ],
)
def test_a_wrong_stored_fit_is_ignored_and_the_page_is_right(
    celery_worker, client, alice, crowd_study, wrong
):
    study, made = crowd_study
    api = client_for(alice)
    _exclude_some(study, made)
    _results(api, study.slug)
    wait_until(lambda: _fit_current(api, study), timeout=120, interval=0.3)
    right, _ = _results(api, study.slug)
    row = SharedFit.objects.filter(kind=ONE_COIN_KIND, status="done").latest("finished_at")
    result = dict(row.result)
    if wrong == "alien items":  # another deployment's fit for its own items
        result["fit"] = {**result["fit"], "items": [i + 10**9 for i in result["fit"]["items"]]}
    elif wrong == "other flags":  # a fit made under other rules: its aggregate is not ours
        result["flagged"] = result["flagged"][1:]
    else:
        result = wrong
    _consuming(celery_worker, on=False)
    try:
        SharedFit.objects.filter(pk=row.pk).update(result=result)
        study_stats_invalidate(study.pk)
        client.force_login(alice)
        assert client.get(f"/dashboards/studies/{study.slug}/").status_code == 200
        pending, _ = _results(api, study.slug)
        # Ignored: the majority meanwhile, and the row queued for a worker again.
        assert pending["state"] == "updating" and pending["rows"][0]["reliability_weighted"] is None
        assert pending["rows"][0]["majority"] == right["rows"][0]["majority"]
        assert SharedFit.objects.get(pk=row.pk).status == SharedFit.Status.PENDING
        assert api.get(f"/api/v1/studies/{study.slug}/raters/").status_code == 200
    finally:
        _consuming(celery_worker, on=True)
    wait_until(lambda: SharedFit.objects.get(pk=row.pk).status == "done", timeout=120)
    again, _ = _results(api, study.slug)
    assert _default(again) == _default(right)
    assert Judgment.objects.filter(item__study=study, excluded=True).count() == 120


def test_a_request_reads_the_spam_odds_and_fits_nothing(
    celery_worker, monkeypatch, alice, crowd_study
):
    """The worker stores the flags made from its fit (the spam test's odds and evidence):
    a cold results or raters request neither fits nor recomputes the odds, and shows
    exactly the flags the direct computation gives."""
    import evalhub.dashboards.selectors.crowd_quality as crowd_quality_module
    import evalhub.stats.crowd_flags as crowd_flags_module

    study, made = crowd_study
    api = client_for(alice)
    _exclude_some(study, made)
    _results(api, study.slug)
    wait_until(lambda: _fit_current(api, study), timeout=120, interval=0.3)
    calls: list[str] = []

    def refused(name):
        def call(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} ran in a request")

        return call

    monkeypatch.setattr(crowd_flags_module, "leave_one_out_posterior", refused("spam odds"))
    monkeypatch.setattr(crowd_quality_module, "one_coin_dawid_skene", refused("one-coin fit"))
    study_stats_invalidate(study.pk)
    block, _ = _results(api, study.slug)
    raters = api.get(f"/api/v1/studies/{study.slug}/raters/?page_size=100").json()
    assert calls == [] and block["state"] == "current"
    assert raters["reliability_state"] == "current"
    monkeypatch.undo()
    data = valid_verdicts(study)
    rater_ids, rater_code = np.unique(data.rater, return_inverse=True)
    fit = one_coin_dawid_skene(data.item, rater_code, data.label, n_classes=3)
    direct = crowd_flags(
        n_raters=rater_ids.size, rater=rater_code, item=data.item, label=data.label,
        sided=np.isin(data.raw_choice, ("A", "B")), chose_left=data.raw_choice == "A",
        time_ms=data.time_ms, fit=fit, gold_right=gold_right(study, data),
        rules=QUALITY_DEFAULTS,
    )  # fmt: skip
    shown = {r["rater"]: r for r in raters["results"]}
    for i, rater in enumerate(rater_ids.tolist()):
        hits = sorted(name for name, hit in direct.flags.items() if hit[i])
        assert sorted(f for f in shown[rater]["flags"] if f in direct.flags) == hits
        for name in hits:
            assert shown[rater]["evidence"][name] == direct.evidence[name][i]
    assert direct.flags["spamming"].any()  # the spam test's evidence was compared
