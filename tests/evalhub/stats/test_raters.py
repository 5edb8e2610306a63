"""Per-rater statistics from judgment arrays, checked against hand-counted cases."""

import numpy as np
import pytest

from evalhub.stats.raters import (
    DEFAULT_RULES,
    agreement_with_reference,
    leave_one_out_majority,
    longest_run,
    majority_agreement,
    per_rater_quantile,
    rater_flags,
    rater_table,
    reference_by_item,
)


def test_quantiles_match_numpy_per_rater():
    rng = np.random.default_rng(0)
    rater = rng.integers(0, 5, 300)
    values = rng.random(300) * 1000
    values[::17] = np.nan
    for q in (0.1, 0.5):
        got = per_rater_quantile(rater, values, 6, q)
        for r in range(5):
            mine = values[rater == r]
            assert got[r] == pytest.approx(np.quantile(mine[np.isfinite(mine)], q))
        assert np.isnan(got[5])


def test_longest_run_follows_the_sequence_not_the_array_order():
    rater = np.array([0, 0, 0, 0, 1, 1, 0])
    seq = np.array([1, 2, 3, 5, 1, 2, 4])
    choice = np.array([7, 7, 8, 7, 3, 3, 7])
    # rater 0 in order: 7 7 8 7 7 -> longest 2; rater 1: 3 3 -> 2
    assert longest_run(rater, seq, choice, 3).tolist() == [2, 2, 0]


def test_leave_one_out_majority_and_lima_tie_discount():
    # item 0: raters 0,1,2 say win, win, tie; item 1: raters 0,1 say loss, win.
    rater = np.array([0, 1, 2, 0, 1])
    item = np.array([0, 0, 0, 1, 1])
    verdict = np.array([2, 2, 1, 0, 2])
    majority, has = leave_one_out_majority(item, verdict, 3, tie_class=1)
    # rater 0 on item 0: others win, tie -> split -> tie; rater 2: others win, win -> win.
    assert majority.tolist() == [1, 1, 2, 2, 0] and has.all()
    agree = majority_agreement(rater, item, verdict, 3, 3, tie_class=1)
    # rater 0: item0 win vs tie -> plain 0, tda 0.5; item1 loss vs win -> 0, 0
    assert agree.plain.tolist() == [0.0, 0.0, 0.0]
    assert agree.tie_discounted.tolist() == [0.25, 0.25, 0.5]
    assert agree.compared.tolist() == [2, 2, 1]


def test_agreement_with_an_llm_reference():
    ref = reference_by_item(np.array([0, 0, 1]), np.array([2, 2, 0]), 3, signed=True)
    assert ref[:2].tolist() == [2.0, 0.0] and np.isnan(ref[2])
    got = agreement_with_reference(
        np.array([0, 0, 1]), np.array([2, 1, 0]), ref[np.array([0, 1, 2])], 2
    )
    assert got[0] == 0.5 and np.isnan(got[1])


def test_rules_flag_only_past_their_thresholds():
    n = 20
    table = rater_table(
        n_raters=2, rater=np.repeat([0, 1], n), item=np.tile(np.arange(n), 2),
        sequence=np.arange(2 * n), choice=np.r_[np.zeros(n), np.arange(n) % 2],
        verdict=np.r_[np.full(n, 2), np.full(n, 2)], n_classes=3, tie_class=1,
        is_check=np.zeros(2 * n, dtype=bool), time_ms=np.r_[np.full(n, 500.0), np.full(n, 9e4)],
        too_fast=np.r_[np.ones(n, dtype=bool), np.zeros(n, dtype=bool)],
        chose_left=np.r_[np.ones(n, dtype=bool), np.arange(n) % 2 == 0],
        sided=np.ones(2 * n, dtype=bool), has_comment=np.zeros(2 * n, dtype=bool),
    )  # fmt: skip
    flags = rater_flags(table, DEFAULT_RULES, np.array([0, 0]))
    assert flags["too_fast"].tolist() == [True, False]
    assert flags["position_bias"].tolist() == [True, False]
    assert flags["same_choice_run"].tolist() == [True, False]
    assert flags["low_agreement"].tolist() == [False, False]
    assert table.left_share.tolist() == [1.0, 0.5] and table.longest_run.tolist() == [n, 1]
    relaxed = rater_flags(table, {"max_left_share": 1.0}, np.array([2, 0]))
    assert relaxed["position_bias"].tolist() == [False, False]
    assert relaxed["attention_checks"].tolist() == [True, False]
