"""The aggregates behind the results: Dawid-Skene (the option) is fitted by a real worker,
says "updating" until then and is never shown stale; whatever a stored fit holds, the
page is right. (The default's one-coin fit: test_one_coin_fit.py.)"""

import numpy as np
import pytest
from django.core.cache import cache

from evalhub.crowd.selectors import flagged_rater_ids
from evalhub.crowd.services import raters_exclude
from evalhub.dashboards.selectors import study_results
from evalhub.dashboards.selectors.reliability import DAWID_SKENE_KIND
from evalhub.fits.models import SharedFit
from evalhub.fits.services import shared_fit_request
from evalhub.stats.dawid_skene import majority_vote
from evalhub.studies.models import Judgment
from tests.evalhub.crowd.fixtures import crowd_study_fixture  # noqa: F401
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
from tests.support import wait_until


def _majority_win_share(study) -> float:
    """The majority vote's win share over every item with valid verdicts, by hand."""
    rows = Judgment.objects.filter(item__study=study, rater__isnull=False, excluded=False)
    items, verdicts = zip(*rows.values_list("item_id", "verdict"), strict=True)
    ids, code = np.unique(items, return_inverse=True)
    label = np.array([{"baseline": 0, "tie": 1, "target": 2}[v] for v in verdicts])
    voted = majority_vote(code, label, ids.size, 3, tie_class=1)
    return float((voted == 2).sum() / np.isfinite(voted).sum())


@pytest.mark.django_db(transaction=True)
def test_a_pending_refit_shows_the_majority_over_all_items_and_updating(celery_worker, crowd_study):
    study, _ = crowd_study
    raters_exclude(study=study, rater_ids=flagged_rater_ids(study), reason="spam")
    pending = study_results(study)["aggregation"]
    row = pending["rows"][0]
    # Before the worker lands: no Dawid-Skene shares at all, never the last fit's.
    assert pending["current"] is False and row["dawid_skene"] is None
    assert (
        row["items"]
        == Judgment.objects.filter(item__study=study, excluded=False)
        .values("item_id")
        .distinct()
        .count()
    )
    assert row["majority"]["win"] == pytest.approx(_majority_win_share(study))

    # The worker refits in the background; the results say when the fit is current again.
    wait_until(lambda: study_results(study)["aggregation"]["current"], timeout=120, interval=0.5)
    fresh = study_results(study)["aggregation"]
    assert sum(fresh["rows"][0]["dawid_skene"].values()) == pytest.approx(1.0)
    wait_until(lambda: study_results(study)["aggregation"]["state"] == "current", timeout=120)
    assert sum(study_results(study)["aggregation"]["rows"][0]["reliability_weighted"].values()) == (
        pytest.approx(1.0)
    )
    # The fit lives in PostgreSQL: a Redis flush loses the cached page, not the fit.
    cache.clear()
    assert (
        study_results(study)["aggregation"]["rows"][0]["dawid_skene"]
        == fresh["rows"][0]["dawid_skene"]
    )


@pytest.mark.django_db
def test_a_wrong_fit_under_the_key_gives_a_correct_page(client, alice, crowd_study):
    study, _ = crowd_study
    client.force_login(alice)
    right = study_results(study)["aggregation"]["rows"][0]["reliability_weighted"]
    # A stored Dawid-Skene result for the current data that is not this study's.
    row = shared_fit_request(kind=DAWID_SKENE_KIND, inputs={"study": study.pk})
    SharedFit.objects.filter(pk=row.pk).update(
        status=SharedFit.Status.DONE,
        result={"study": study.pk, "fingerprint": "x", "item_ids": [10**9, 1], "label": [0],
                "proba": [[0, 0, 0]] * 5, "rater_ids": [1], "reliability": [0.5]},
    )  # fmt: skip
    from evalhub.dashboards.cache import study_stats_invalidate

    study_stats_invalidate(study.pk)
    page = client.get(f"/dashboards/studies/{study.slug}/")
    assert page.status_code == 200
    again = study_results(study)["aggregation"]
    assert again["rows"][0]["reliability_weighted"] == right
    assert again["rows"][0]["dawid_skene"] is None  # the bad fit is ignored, not shown
    SharedFit.objects.filter(pk=row.pk).update(result="not a fit at all")
    study_stats_invalidate(study.pk)
    assert client.get(f"/dashboards/studies/{study.slug}/").status_code == 200
