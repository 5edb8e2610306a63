"""Position bias of raters and swap consistency of LLM judges."""

import numpy as np
import pytest
from scipy.stats import binomtest

from evalhub.stats.bias import position_bias, swap_consistency


def test_it_turns_target_verdicts_into_first_position_verdicts():
    # target first and wins; target second and wins (second position wins); target first, tie
    result = position_bias([1, 1, 0, -1], [True, False, True, False])
    assert (result.first_wins, result.second_wins, result.ties) == (2, 1, 1)
    assert result.first_win_rate == pytest.approx(2 / 3)


def test_the_test_and_interval_are_scipys_exact_ones():
    rng = np.random.default_rng(0)
    verdicts = rng.choice([-1, 0, 1], size=200, p=[0.3, 0.2, 0.5])
    result = position_bias(verdicts, level=0.9)
    k, n = int((verdicts == 1).sum()), int((verdicts != 0).sum())
    reference = binomtest(k, n, 0.5)
    ci = reference.proportion_ci(confidence_level=0.9, method="exact")
    assert result.p_value == pytest.approx(reference.pvalue)
    assert (result.interval.low, result.interval.high) == pytest.approx((ci.low, ci.high))
    assert result.interval.method == "clopper-pearson"
    assert result.interval.contains(result.first_win_rate)


def test_all_ties_have_no_rate():
    result = position_bias([0, 0, 0])
    assert np.isnan(result.first_win_rate) and result.p_value == 1.0


def test_swap_consistency_by_hand():
    ab = [1, 0, -1, 1, 0]
    ba = [1, -1, -1, -1, 1]
    result = swap_consistency(ab, ba)
    assert (result.n_items, result.consistent, result.rate) == (5, 2, 0.4)
    assert result.flips == 1  # item 4: win when first, loss when second
    assert (result.favours_first, result.favours_second) == (2, 1)
    assert result.interval.contains(0.4)


def test_a_judge_that_ignores_order_is_fully_consistent():
    verdicts = [1, 0, -1, -1]
    result = swap_consistency(verdicts, verdicts)
    assert result.rate == 1.0 and result.flips == 0


def test_it_rejects_misaligned_orders():
    with pytest.raises(ValueError):
        swap_consistency([1, 0], [1])
    with pytest.raises(ValueError):
        swap_consistency([], [])
