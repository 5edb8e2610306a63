"""Adaptive pairing's rule and its simulation on a few seeds (the table over 300 seeds a
truth is bench/adaptive_pairing.py)."""

from itertools import combinations

import numpy as np
import pytest

from evalhub.stats.pairing_design import (
    compare_rule,
    information_pair,
    known_truth_ceiling,
    plug_in_ratings,
    rating_covariance,
    simulate_pairing,
    width_reduction,
)

PAIRS = list(combinations(range(4), 2))


def test_the_covariance_is_centred_and_shrinks_with_battles():
    few = rating_covariance(np.full((4, 4), 5.0), np.zeros(4))
    many = rating_covariance(np.full((4, 4), 50.0), np.zeros(4))
    assert np.allclose(few.sum(axis=1), 0.0)
    assert np.all(np.diag(many) < np.diag(few))


def test_width_reduction_matches_refitting_the_covariance():
    counts, ratings = np.full((4, 4), 3.0), np.array([0.0, 0.5, 1.0, 2.0])
    before = rating_covariance(counts, ratings)
    gains = width_reduction(before, ratings, PAIRS)
    for (i, j), gain in zip(PAIRS, gains, strict=True):
        more = counts.copy()
        more[i, j] += 1
        more[j, i] += 1
        after = rating_covariance(more, ratings)
        exact = np.sqrt(np.diag(before)).sum() - np.sqrt(np.diag(after)).sum()
        assert gain == pytest.approx(exact, rel=1e-9)


def test_equal_models_and_counts_leave_every_pair_tied():
    assert information_pair(PAIRS, [3] * 6, np.zeros(4)) == list(range(6))


def test_a_pair_below_half_its_share_comes_first():
    assert information_pair(PAIRS, [10, 10, 10, 10, 10, 2], np.zeros(4)) == [5]


def test_the_plug_in_fit_stays_finite_for_a_model_that_lost_everything():
    r = plug_in_ratings([0, 0, 1], [1, 1, 2], [1, 1, 1], 3)
    assert np.all(np.isfinite(r)) and r[0] > r[1] > r[2]
    assert np.array_equal(plug_in_ratings([], [], [], 3), np.zeros(3))


def test_a_run_spends_its_budget_and_uniform_stays_balanced():
    run = simulate_pairing([0.35 * i for i in range(6)], 60, "uniform", seed=1, rounds=20)
    assert run.counts.sum() == 60 and run.counts.max() - run.counts.min() <= 1
    assert run.widths.shape == (6,) and np.all(run.widths > 0)


def test_the_information_rule_does_not_lose_to_uniform_on_average():
    """Its mean-width ratio to uniform over a few seeds stays near 1 (the bench's 300 seeds
    give the table in the rule's docstring)."""
    result = compare_rule([0.35 * i for i in range(6)], 200, "information", range(8), rounds=50)
    assert 0.9 < result.ratios.mean() < 1.06


def test_uniform_is_near_the_known_truth_ceiling_for_close_models():
    """With equal strengths every pair carries the same information: uniform is optimal."""
    assert known_truth_ceiling(np.zeros(6), 200) == pytest.approx(1.0, abs=0.01)
    # Far-apart models: knowing the truth, battling close pairs more helps.
    assert known_truth_ceiling([0.8 * i for i in range(6)], 200, "neighbours") < 0.9
