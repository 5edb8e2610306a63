"""The raters table on simulated raters: every planted spammer flagged, no honest rater."""

import pytest

from evalhub.crowd.selectors import raters_table, rows_sorted
from evalhub.studies.models import Item, Judge, Judgment, Rater

pytestmark = pytest.mark.django_db


def test_it_flags_every_planted_spammer_and_no_honest_rater(crowd_study):
    study, made = crowd_study
    rows = {r["rater"]: r for r in raters_table(study)["raters"]}
    assert len(rows) == 24
    for kind, ids in made.items():
        for rater_id in ids:
            assert rows[rater_id]["flagged"] == (kind != "honest"), (kind, rows[rater_id])
    for rater_id in made["left"]:
        assert "position_bias" in rows[rater_id]["flags"]
        assert rows[rater_id]["evidence"]["position_bias"].startswith(
            "chose the left answer 60 of 60 times (p < 0.001"
        )
        assert rows[rater_id]["left_share"] == 1.0
        assert rows[rater_id]["longest_run"] == 60
    for rater_id in made["fast"]:
        assert "too_fast" in rows[rater_id]["flags"]
        assert rows[rater_id]["evidence"]["too_fast"].startswith("median ")
        assert rows[rater_id]["time_p10_ms"] < 1500
    for rater_id in made["random"]:
        assert "spamming" in rows[rater_id]["flags"]
        assert "times better than the items" in rows[rater_id]["evidence"]["spamming"]
    honest = [rows[r] for r in made["honest"]]
    assert all(r["evidence"] == {} for r in honest)
    assert min(r["agreement"] for r in honest) > max(rows[r]["agreement"] for r in made["random"])
    # The one-coin fit trusts the honest raters more than any spammer.
    spammers = [rows[r]["reliability"] for k in ("random", "left", "fast") for r in made[k]]
    assert min(r["reliability"] for r in honest) > max(spammers)
    assert all(r["judgments"] == 60 and r["status"] == "completed" for r in rows.values())


def test_it_sorts_and_filters(crowd_study):
    study, made = crowd_study
    rows = raters_table(study)["raters"]
    by_left = rows_sorted(rows, sort="-left_share")
    assert {r["rater"] for r in by_left[:4]} == set(made["left"])
    flagged = rows_sorted(rows, sort="rater", flagged=True)
    assert [r["rater"] for r in flagged] == sorted(made["random"] + made["left"] + made["fast"])
    with pytest.raises(ValueError, match="sort: unknown column 'nope'"):
        rows_sorted(rows, sort="nope")


def test_agreement_with_an_llm_judge_counts_its_two_orders_as_one_verdict(crowd_study):
    study, _ = crowd_study
    judge = Judge.objects.create(slug="gpt", name="gpt", model="gpt", base_url="http://x/v1",
                                 template="lima_pairwise")  # fmt: skip
    # The judge says "target" on every item, in both orders.
    Judgment.objects.bulk_create(
        Judgment(item=item, judge=judge, judge_group="llm:gpt", verdict="target", order=order,
                 parse_state="ok")
        for item in Item.objects.filter(study=study, is_gold=False)
        for order in ("target_first", "baseline_first")
    )  # fmt: skip
    table = raters_table(study)
    assert table["llm_groups"] == ["llm:gpt"]
    for row in table["raters"]:
        wins = Judgment.objects.filter(rater_id=row["rater"], verdict="target").count()
        assert row["llm_agreement"]["llm:gpt"] == pytest.approx(wins / 60)


def test_a_likert_study_keeps_the_time_flag_without_a_fit(db):
    from tests.evalhub.dashboards.conftest import build_pairwise_study

    study, items = build_pairwise_study(slug="lik", baselines=[], n_prompts=12, kind="likert")
    fast = Rater.objects.create(group=Rater.Group.CROWD, external_id_hash="f" * 64)
    slow = Rater.objects.create(group=Rater.Group.CROWD, external_id_hash="s" * 64)
    for n, item in enumerate(items.values()):
        for rater, ms in ((fast, 700), (slow, 6000)):
            Judgment.objects.create(item=item, rater=rater, judge_group="crowd", score=3 + n % 2,
                                    raw_choice=str(3 + n % 2), time_on_task_ms=ms)  # fmt: skip
    rows = {r["rater"]: r for r in raters_table(study)["raters"]}
    assert rows[fast.pk]["flags"] == ["too_fast"]
    assert rows[fast.pk]["evidence"]["too_fast"] == (
        "median 0.7 s per item over 12 items (rule: at least 2.5 s)"
    )
    assert rows[slow.pk]["flags"] == []
