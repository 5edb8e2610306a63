"""Chain scores: each model judged only against the one before it."""

import math

import numpy as np
import pytest

from evalhub.stats.bradley_terry_fit import PairTotals, fit_half_win
from evalhub.stats.chain import chain_best, chain_scores


def test_a_hand_computed_chain():
    # link 1: 3 wins, 2 ties, 1 loss -> log((3 + 1 + 0.5) / (1 + 1 + 0.5)) = log(1.8)
    # link 2: 0 wins, 0 ties, 2 losses -> log(0.5 / 2.5) = log(0.2)
    result = chain_scores([3, 0], [2, 0], [1, 2])
    assert result.log_odds == pytest.approx((math.log(1.8), math.log(0.2)))
    assert result.scores == pytest.approx((0.0, math.log(1.8), math.log(1.8) + math.log(0.2)))
    assert result.scores == pytest.approx((0.0, 0.5877866649, -1.0216512475))
    assert result.standard_errors == pytest.approx(
        (math.sqrt(1 / 4.5 + 1 / 2.5), math.sqrt(1 / 0.5 + 1 / 2.5))
    )
    assert result.smoothing == 0.5
    assert result.best == 1


def test_a_tie_is_half_a_win_for_each_side():
    assert chain_scores([0], [4], [0]).log_odds == (0.0,)  # all ties: no difference
    # 1 win + 2 ties = 2 won, 2 lost (plus 0.5 each): the same as 2 wins and 2 losses
    assert chain_scores([1], [2], [1]).scores == chain_scores([2], [0], [2]).scores
    assert chain_scores([1], [2], [0]).log_odds == pytest.approx((math.log(2.5 / 1.5),))


def test_smoothing_keeps_a_clean_sweep_finite_and_shrinks_small_samples():
    sweep = chain_scores([5], [0], [0])
    assert sweep.log_odds == pytest.approx((math.log(5.5 / 0.5),))
    assert math.isfinite(sweep.scores[1])
    # One win says less than ten wins.
    assert chain_scores([1], [0], [0]).scores[1] < chain_scores([10], [0], [0]).scores[1]
    assert chain_scores([1], [0], [0], smoothing=1.0).log_odds == pytest.approx((math.log(2),))
    with pytest.raises(ValueError, match="smoothing"):
        chain_scores([1], [0], [0], smoothing=0)


def test_the_chain_is_the_bradley_terry_fit_of_the_smoothed_counts_on_a_path():
    wins, ties, losses = np.array([7, 2, 4]), np.array([3, 5, 0]), np.array([2, 6, 1])
    k = 4
    won, lost = np.zeros((1, k, k)), np.zeros((1, k, k))
    for i in range(k - 1):  # model i + 1 against model i
        won[0, i + 1, i] = wins[i] + 0.5
        won[0, i, i + 1] = losses[i] + 0.5
        lost[0, i + 1, i] = lost[0, i, i + 1] = ties[i]
    fit = fit_half_win(PairTotals(wins=won, ties=lost))
    assert fit.converged.all()
    expected = fit.ratings[0] - fit.ratings[0, 0]
    assert chain_scores(wins, ties, losses).scores == pytest.approx(tuple(expected), abs=1e-7)


def test_the_best_goes_to_the_earlier_model_on_a_tie():
    assert chain_best([0.0, 1.2, 0.7]) == 1
    assert chain_best([0.0, 0.4, 0.4]) == 1
    assert chain_best([0.0, -0.3]) == 0
    # Up then down by the same counts: log(2.5/1.5) + log(1.5/2.5) need not be exactly 0.
    back = chain_scores([2, 1], [0, 0], [1, 2])
    assert back.scores[2] == pytest.approx(0.0, abs=1e-12)
    assert back.best == 1
    flat = chain_scores([1, 2], [0, 0], [1, 2])
    assert flat.best == 0  # every score 0: the first


def test_an_empty_link_leaves_the_rest_unplaced():
    result = chain_scores([2, 0, 3], [0, 0, 0], [0, 0, 1])
    assert result.scores[:2] == pytest.approx((0.0, math.log(2.5 / 0.5)))
    assert all(math.isnan(s) for s in result.scores[2:])
    assert math.isnan(result.log_odds[1]) and math.isnan(result.standard_errors[1])
    assert result.best == 1
    assert chain_best([float("nan")]) is None
    assert chain_scores([], [], []).scores == (0.0,)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="same length"):
        chain_scores([1, 2], [0], [0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        chain_scores([-1], [0], [0])
    with pytest.raises(ValueError, match="1-d"):
        chain_scores([[1]], [[0]], [[0]])
