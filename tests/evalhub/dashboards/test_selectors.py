"""Study results from judgments in the database: DB -> selector -> the numbers."""

from __future__ import annotations

import json

import pytest

from evalhub.dashboards.selectors import (
    compute_study_results,
    global_leaderboard,
    headline_results,
    study_results,
)
from evalhub.stats import win_tie_loss
from evalhub.studies.models import Judgment, Study
from tests.evalhub.dashboards.conftest import (
    LIMA_GPT4,
    LIMA_HUMAN,
    add_human,
    add_llm,
    verdicts_for,
)

pytestmark = pytest.mark.django_db


def _rows(results: dict) -> dict[tuple[str, str], dict]:
    return {(r["baseline"], r["judge_group"]): r for r in results["pairwise"]}


def test_the_headline_is_the_full_results_own_numbers(lima_study):
    full, headline = study_results(lima_study), headline_results(lima_study)
    for key in ("pairwise", "agreement", "labels", "likert", "llm_pair_policy"):
        assert headline[key] == full[key], key
    assert len(headline["pairwise"]) == len(full["pairwise"]) > 0
    assert headline["choices"] == []  # pairwise rows are the headline: no choice shares
    assert "leaderboard" not in headline and "aggregation" not in headline


def test_it_reproduces_lima_figures_1_and_2(lima_study):
    rows = _rows(study_results(lima_study))
    for group, figure in (("crowd", LIMA_HUMAN), ("llm:gpt-4", LIMA_GPT4)):
        for baseline, (win, tie, loss) in figure.items():
            row = rows[(baseline, group)]
            got = (row["win_share"], row["tie_share"], row["loss_share"])
            assert got == pytest.approx((win / 100, tie / 100, loss / 100)), (baseline, group)
            assert row["equivalent_or_preferred"] == pytest.approx((win + tie) / 100)
            assert row["n_prompts"] == 100 and row["n_judgments"] == 100
            iv = row["win_interval"]
            assert iv["low"] < row["win_share"] < iv["high"] and iv["level"] == 0.95
    assert rows[("alpaca-65b", "crowd")]["judge_kind"] == "human"
    assert rows[("alpaca-65b", "llm:gpt-4")]["judge_kind"] == "llm"
    # The sign test is the exact binomial test: 53 wins vs 26 losses.
    expected = win_tie_loss([1] * 53 + [0] * 21 + [-1] * 26).sign_test_p_value
    assert rows[("alpaca-65b", "crowd")]["sign_test_p_value"] == pytest.approx(expected)


def test_results_are_plain_json(lima_study):
    results = study_results(lima_study)
    assert json.loads(json.dumps(results, allow_nan=False)) == results


def test_llm_orders_are_combined_under_the_study_policy(study_builder):
    study, items = study_builder(slug="flip", baselines=["alpaca-65b"], n_prompts=4)
    # Prompt 0, 1 consistent wins; prompt 2 flips (target wins only when shown first); 3 tie.
    add_llm(items, {"alpaca-65b": ["target", "target", "target", "tie"]},
            {"alpaca-65b": ["target", "target", "baseline", "tie"]})  # fmt: skip
    row = _rows(compute_study_results(study))[("alpaca-65b", "llm:gpt-4")]
    assert (row["wins"], row["ties"], row["losses"]) == (2, 2, 0)  # the flip counts as a tie
    Study.objects.filter(pk=study.pk).update(inconsistent_pair_policy="keep_both")
    study.refresh_from_db()
    row = _rows(compute_study_results(study))[("alpaca-65b", "llm:gpt-4")]
    assert (row["wins"], row["ties"], row["losses"]) == (3, 1, 1)
    Study.objects.filter(pk=study.pk).update(inconsistent_pair_policy="drop")
    study.refresh_from_db()
    results = compute_study_results(study)
    row = _rows(results)[("alpaca-65b", "llm:gpt-4")]
    assert (row["wins"], row["ties"], row["losses"]) == (2, 1, 0)
    (swap,) = results["bias"]["swap_consistency"]
    assert (swap["n_items"], swap["consistent"], swap["flips"], swap["favours_first"]) == (
        4,
        3,
        1,
        1,
    )


def test_attention_checks_and_failed_parses_do_not_count(study_builder):
    study, items = study_builder(slug="clean", baselines=["bard"], n_prompts=3)
    add_human(items, {"bard": ["target", "tie", "baseline"]})
    Judgment.objects.create(item=items[("bard", 0)], judge_group="crowd", verdict="baseline",
                            is_attention_check=True)  # fmt: skip
    Judgment.objects.create(item=items[("bard", 1)], judge_group="llm:x", verdict="target",
                            order="target_first", parse_state="failed")  # fmt: skip
    results = compute_study_results(study)
    assert [(r["judge_group"], r["wins"], r["ties"], r["losses"]) for r in results["pairwise"]] == [
        ("crowd", 1, 1, 1)
    ]
    assert results["filters"]["available_groups"] == ["crowd"]


def test_filters_by_group_and_category(lima_study):
    only_crowd = study_results(lima_study, groups=["crowd"])
    assert {r["judge_group"] for r in only_crowd["pairwise"]} == {"crowd"}
    assert only_crowd["filters"]["available_groups"] == ["crowd", "llm:gpt-4"]
    advice = study_results(lima_study, category="advice")  # the even prompts
    row = _rows(advice)[("alpaca-65b", "crowd")]
    expected = verdicts_for(*LIMA_HUMAN["alpaca-65b"])[0::2]
    assert row["n_judgments"] == 50 and row["wins"] == expected.count("target")
    assert advice["filters"]["available_categories"] == ["advice", "writing"]
    assert advice["progress"]["items"] == 250


def test_agreement_position_length_and_progress(lima_study):
    results = study_results(lima_study)
    agreement = results["agreement"]
    assert agreement["groups"] == ["crowd", "llm:gpt-4"]
    assert agreement["n_items"][0][1] == 500
    # Worked by hand from the constructed verdicts: per baseline, prompt i gets crowd verdict
    # human[i] and GPT-4 verdict gpt4[i]; credit 1 same, 0.5 one tie, 0 opposite.
    credit = 0.0
    for baseline in LIMA_HUMAN:
        human = verdicts_for(*LIMA_HUMAN[baseline])
        gpt4 = verdicts_for(*LIMA_GPT4[baseline])
        for h, g in zip(human, gpt4, strict=True):
            credit += 1.0 if h == g else 0.5 if "tie" in (h, g) else 0.0
    assert agreement["tie_discounted_accuracy"][0][1] == pytest.approx(credit / 500)
    position = {p["judge_group"]: p for p in results["bias"]["position"]}
    assert position["crowd"]["n_judgments"] == 500
    assert position["llm:gpt-4"]["n_judgments"] == 1000
    length = {row["judge_group"]: row for row in results["bias"]["length"]}
    assert length["crowd"]["studies"] == sorted(LIMA_HUMAN)
    progress = results["progress"]
    assert (progress["items"], progress["quota"], progress["judgments_done"]) == (500, 1, 500)
    assert progress["judgments_per_item"] == [0, 500]
    assert progress["llm"] == [{"judge_group": "llm:gpt-4", "items_judged": 500}]
    board = results["leaderboard"]
    # LIMA sits between the baselines it beats (Alpaca, DaVinci) and those it loses to.
    assert [m["model"] for m in board["models"]] == [
        "gpt-4", "claude", "bard", "lima-65b", "davinci003", "alpaca-65b"
    ]  # fmt: skip


def test_absolute_study_gives_label_shares_per_model_and_category(study_builder):
    study, items = study_builder(slug="abs", baselines=[], n_prompts=4, kind="absolute")
    add_human(items, {"lima-65b": ["excellent", "pass", "fail", "excellent"]}, group="author")
    results = compute_study_results(study)
    (labels,) = results["labels"]
    assert (labels["model"], labels["judge_group"], labels["n_ratings"]) == (
        "lima-65b",
        "author",
        4,
    )
    assert [(s["label"], s["count"]) for s in labels["shares"]] == [
        ("Fail", 1), ("Pass", 1), ("Excellent", 2)
    ]  # fmt: skip
    by_category = {r["category"]: r for r in results["labels_by_category"]}
    assert [s["count"] for s in by_category["advice"]["shares"]] == [1, 0, 1]  # prompts 0, 2


def test_likert_study_gives_the_mean_with_both_intervals(study_builder):
    study, items = study_builder(slug="lik", baselines=[], n_prompts=3, kind="likert")
    for i, score in enumerate([3, 4, 5]):
        Judgment.objects.create(item=items[("lima-65b", i)], judge_group="llm:chatgpt", score=score,
                                parse_state="ok")  # fmt: skip
    (row,) = compute_study_results(study)["likert"]
    assert row["mean"] == pytest.approx(4.0) and row["method"] == "t"
    assert row["low"] == pytest.approx(4.0 - 4.302652729911275 * 1.0 / 3**0.5)
    assert row["bootstrap"]["method"] == "cluster-bootstrap-percentile"


def test_global_leaderboard_covers_every_model_of_every_study(lima_study, study_builder):
    _other, items = study_builder(slug="other", baselines=["vicuna"], n_prompts=4, target="bard")
    add_human(items, {"vicuna": ["baseline", "baseline", "tie", "target"]})
    board = global_leaderboard()
    assert {m["model"] for m in board["models"]} == {"lima-65b", "vicuna", *LIMA_HUMAN}
    assert sorted(m["rank"] for m in board["models"])[0] == 1
    crowd_only = global_leaderboard(groups=["crowd"])
    vicuna = next(m for m in crowd_only["models"] if m["model"] == "vicuna")
    assert vicuna["n_battles"] == 4
