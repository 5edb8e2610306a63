"""Win rate by length difference and the length-controlled win rate."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from evalhub.stats.length_bias import (
    length_controlled_win_rate,
    win_rate_by_length,
)


def test_binned_win_rates_by_hand():
    verdicts = [1, 1, -1, 0, 1, -1]
    diffs = [100, 50, -20, 0, 30, 10]
    result = win_rate_by_length(verdicts, diffs, bins=[-50, 20, 200])
    np.testing.assert_array_equal(result.n, [3, 3])
    np.testing.assert_array_equal(result.wins, [0, 3])
    # bin 1: loss, tie, loss -> (0 + 0.5) / 3
    np.testing.assert_allclose(result.preferred_rate, [0.5 / 3, 1.0])


def test_quantile_bins_cover_every_judgment():
    rng = np.random.default_rng(0)
    diffs = rng.normal(size=101)
    result = win_rate_by_length(rng.choice([-1, 0, 1], 101), diffs, bins=4)
    assert result.n.sum() == 101 and result.edges.size == 5


def test_no_length_signal_gives_the_raw_rate():
    verdicts = [1, 1, 0, -1, 1, 0, -1, 1]
    result = length_controlled_win_rate(verdicts, np.zeros(8))
    assert result.length_scale == 0.0
    assert result.raw_win_rate[0] == pytest.approx(5.0 / 8)
    assert result.length_controlled_win_rate[0] == pytest.approx(5.0 / 8, abs=1e-3)


def test_it_matches_a_direct_fit():
    rng = np.random.default_rng(1)
    diffs = rng.normal(0, 200, 300)
    verdicts = rng.choice([-1, 0, 1], 300)
    result = length_controlled_win_rate(verdicts, diffs, ridge=0.0)
    y, x = (verdicts + 1) / 2, np.tanh(diffs / diffs.std())

    def nll(theta):
        z = theta[0] + theta[1] * x
        return np.sum(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))

    theta = minimize(nll, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-10}).x
    assert result.length_controlled_win_rate[0] == pytest.approx(expit(theta[0]), abs=1e-5)
    assert result.length_coefficient == pytest.approx(theta[1], abs=1e-4)


def test_it_removes_a_known_length_effect():
    rng = np.random.default_rng(2)
    n = 20_000
    studies = rng.choice(["alpaca", "bard"], n)
    diffs = rng.normal(100, 300, n)  # the target tends to be longer
    intercept = np.where(studies == "alpaca", 0.4, -0.6)
    p = expit(intercept + 1.5 * np.tanh(diffs / diffs.std()))
    verdicts = np.where(rng.random(n) < p, 1, -1)
    result = length_controlled_win_rate(verdicts, diffs, studies)
    assert result.studies == ("alpaca", "bard")
    np.testing.assert_allclose(result.length_controlled_win_rate, expit([0.4, -0.6]), atol=0.02)
    assert result.length_coefficient == pytest.approx(1.5, abs=0.1)
    assert np.all(result.raw_win_rate > result.length_controlled_win_rate)


@pytest.mark.parametrize("verdicts", [[1], [1, 1], [-1, 1], [0]])
def test_it_works_on_tiny_prompt_sets(verdicts):
    result = length_controlled_win_rate(verdicts, np.arange(len(verdicts)) * 10.0)
    assert np.all(np.isfinite(result.length_controlled_win_rate))
    assert result.converged


def test_weighted_fit_equals_the_fit_on_expanded_rows():
    rng = np.random.default_rng(5)
    n = 300
    verdicts = rng.choice([-1, 0, 1], n)
    diffs = rng.choice([-400.0, -50.0, 0.0, 120.0, 900.0], n)
    studies = rng.choice(["alpaca", "bard", "vicuna"], n)
    weights = rng.integers(0, 6, n)  # zero-weight rows count for nothing
    expanded = length_controlled_win_rate(
        np.repeat(verdicts, weights), np.repeat(diffs, weights), np.repeat(studies, weights)
    )
    weighted = length_controlled_win_rate(verdicts, diffs, studies, weights=weights)
    assert weighted.studies == expanded.studies
    np.testing.assert_array_equal(weighted.n, expanded.n)
    np.testing.assert_allclose(weighted.raw_win_rate, expanded.raw_win_rate, rtol=1e-12)
    assert weighted.length_scale == pytest.approx(expanded.length_scale, rel=1e-12)
    np.testing.assert_allclose(
        weighted.length_controlled_win_rate, expanded.length_controlled_win_rate, atol=1e-9
    )
    assert weighted.length_coefficient == pytest.approx(expanded.length_coefficient, abs=1e-8)
    assert weighted.converged


def test_collapsed_counts_give_the_fit_of_the_raw_judgments():
    rng = np.random.default_rng(6)
    verdicts = rng.choice([-1, 0, 1], 2000)
    diffs = rng.integers(-5, 6, 2000) * 100.0
    raw = length_controlled_win_rate(verdicts, diffs)
    keys, counts = np.unique(np.stack([verdicts, diffs]), axis=1, return_counts=True)
    collapsed = length_controlled_win_rate(keys[0], keys[1], weights=counts)
    assert keys.shape[1] < 40
    np.testing.assert_allclose(
        collapsed.length_controlled_win_rate, raw.length_controlled_win_rate, atol=1e-9
    )
    assert collapsed.n.tolist() == [2000]


@pytest.mark.parametrize("weights", [[1, -1], [1, np.nan], [1], [0, 0]])
def test_bad_weights_are_refused(weights):
    with pytest.raises(ValueError, match="weight"):
        length_controlled_win_rate([1, -1], [10.0, -10.0], weights=weights)
