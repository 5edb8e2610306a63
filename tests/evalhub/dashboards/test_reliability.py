"""The Dawid-Skene fit behind the results and the raters table: fitted on the spot the
first time, then shown stale (marked) after the data changes while a real worker refits
it, after which the pages are fresh again."""

import pytest

from evalhub.crowd.selectors import flagged_rater_ids, raters_table
from evalhub.crowd.services import raters_exclude
from evalhub.dashboards.selectors import study_results
from tests.evalhub.crowd.fixtures import crowd_study_fixture  # noqa: F401
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
from tests.support import wait_until


@pytest.mark.django_db(transaction=True)
def test_a_stale_fit_is_marked_and_a_worker_refits_it(celery_worker, crowd_study):
    study, made = crowd_study
    first = study_results(study)["aggregation"]
    assert first["current"] is True and first["rows"][0]["items"] == 100
    before = {r["rater"]: r["reliability"] for r in raters_table(study)["raters"]}
    assert all(before[r] is not None for r in made["left"])

    raters_exclude(study=study, rater_ids=flagged_rater_ids(study), reason="spam")
    stale = study_results(study)["aggregation"]
    # The majority vote is recomputed at once; the Dawid-Skene shares are the old fit's.
    assert stale["current"] is False
    assert stale["rows"][0]["dawid_skene"] == first["rows"][0]["dawid_skene"]
    assert stale["rows"][0]["majority"] != first["rows"][0]["majority"]

    # The worker refits in the background; the results say when the fit is current again.
    wait_until(lambda: study_results(study)["aggregation"]["current"], timeout=120, interval=0.5)
    after = {r["rater"]: r["reliability"] for r in raters_table(study)["raters"]}
    # Excluded raters are no longer in the fit; the honest ones are.
    assert all(after[r] is None for r in made["left"])
    assert all(after[r] is not None for r in made["honest"])
