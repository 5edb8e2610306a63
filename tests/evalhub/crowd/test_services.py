"""Excluding and including raters: results, quotas, the record, and bad input."""

import pytest

from evalhub.crowd.models import RaterExclusion
from evalhub.crowd.selectors import flagged_rater_ids, raters_table
from evalhub.crowd.services import (
    CrowdInputError,
    CrowdStateError,
    raters_exclude,
    raters_include,
)
from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors import study_results
from evalhub.dashboards.selectors.reliability import DAWID_SKENE_KIND
from evalhub.fits.services import shared_fit_refresh
from evalhub.rating.models import ItemPage
from evalhub.studies.models import Judgment
from evalhub.studies.selectors import judgments_export_rows
from evalhub.studies.services import study_close
from tests.evalhub.crowd.simulation import honest_win_share, planted_truth_win_share

pytestmark = pytest.mark.django_db


def _crowd_row(results):
    (row,) = [r for r in results["pairwise"] if r["judge_group"] == "crowd"]
    return row


def test_excluding_the_flagged_moves_the_win_rate_back_to_the_truth(
    crowd_study, alice, django_capture_on_commit_callbacks
):
    study, made = crowd_study
    truth = planted_truth_win_share(study)
    expected = honest_win_share(truth)
    before = _crowd_row(study_results(study))
    # With the spammers in, the honest raters' win share lies outside the interval.
    assert before["win_interval"]["high"] < expected
    # The reliability-weighted default finds the planted truth without any exclusion, and
    # so does Dawid-Skene (the option), once a worker has fitted it.
    (aggregated,) = study_results(study)["aggregation"]["rows"]
    assert aggregated["reliability_weighted"]["win"] == pytest.approx(truth, abs=0.05)
    shared_fit_refresh(kind=DAWID_SKENE_KIND, inputs={"study": study.pk})
    study_stats_invalidate(study.pk)
    (aggregated,) = study_results(study)["aggregation"]["rows"]
    assert aggregated["dawid_skene"]["win"] == pytest.approx(truth, abs=0.05)

    flagged = flagged_rater_ids(study)
    with django_capture_on_commit_callbacks(execute=True) as invalidated:
        outcome = raters_exclude(study=study, rater_ids=flagged, reason="spam rules", by=alice)
    assert invalidated, "the dashboards' cache must go stale"
    assert sorted(outcome.raters) == sorted(made["random"] + made["left"] + made["fast"])
    assert outcome.judgments == 12 * 60

    after = study_results(study)
    row = _crowd_row(after)
    assert row["win_interval"]["low"] <= expected <= row["win_interval"]["high"]
    assert after["excluded"] == {"raters": 12, "judgments": 720}
    assert after["n_judgments"] == 12 * 60
    # Still in the database and the export, marked.
    assert Judgment.objects.filter(excluded=True).count() == 720
    exported = list(judgments_export_rows(study=study))
    assert sum(r["excluded"] for r in exported) == 720 and len(exported) == 1440
    # The record: who, when, why.
    records = RaterExclusion.objects.filter(study=study)
    assert records.count() == 12
    assert {(r.action, r.reason, r.by_id, r.judgments) for r in records} == {
        ("exclude", "spam rules", alice.pk, 60)
    }
    table = {r["rater"]: r for r in raters_table(study)["raters"]}
    assert all(table[r]["excluded"] for r in flagged)


def test_exclusion_frees_the_quota_and_inclusion_takes_it_back(crowd_study):
    study, made = crowd_study
    rater = made["left"][0]
    items = list(Judgment.objects.filter(rater_id=rater).values_list("item_id", flat=True))
    taken = dict(ItemPage.objects.filter(item_id__in=items).values_list("item_id", "taken"))
    raters_exclude(study=study, rater_ids=[rater], reason="always left")
    after = dict(ItemPage.objects.filter(item_id__in=items).values_list("item_id", "taken"))
    assert after == {i: n - 1 for i, n in taken.items()}
    # Excluding again changes nothing.
    assert raters_exclude(study=study, rater_ids=[rater], reason="again").raters == []
    outcome = raters_include(study=study, rater_ids=[rater], reason="checked by hand")
    assert outcome.raters == [rater] and outcome.judgments == 60
    back = dict(ItemPage.objects.filter(item_id__in=items).values_list("item_id", "taken"))
    assert back == taken
    assert not Judgment.objects.filter(excluded=True).exists()
    assert list(
        RaterExclusion.objects.filter(rater_id=rater)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["exclude", "include"]


def test_an_unknown_rater_is_named_and_nothing_is_written(crowd_study):
    study, made = crowd_study
    with pytest.raises(CrowdInputError, match="unknown raters: 999999") as error:
        raters_exclude(study=study, rater_ids=[made["left"][0], 999999], reason="x")
    assert error.value.problems[0].field == "raters"
    assert not Judgment.objects.filter(excluded=True).exists()
    assert not RaterExclusion.objects.exists()


def test_a_reason_is_required(crowd_study):
    study, made = crowd_study
    with pytest.raises(CrowdInputError, match="reason"):
        raters_exclude(study=study, rater_ids=made["left"], reason="  ")
    assert not RaterExclusion.objects.exists()


def test_a_closed_study_refuses_exclusion(crowd_study):
    study, made = crowd_study
    study = study_close(study=study)
    with pytest.raises(CrowdStateError, match="closed"):
        raters_exclude(study=study, rater_ids=made["left"], reason="late")
    assert not Judgment.objects.filter(excluded=True).exists()
    assert not RaterExclusion.objects.exists()
