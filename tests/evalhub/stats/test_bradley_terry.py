"""Bradley-Terry leaderboard: counts, fits against scipy, anchoring, bootstrap, rank."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import expit

from evalhub.stats.bradley_terry import (
    battle_cell_counts,
    bradley_terry_leaderboard,
    rank_by_intervals,
    win_probability,
)

SCALE = 400 / math.log(10)  # natural units -> rating points


def synthetic_battles(n: int, strengths: np.ndarray, tie_rate: float, seed: int):
    rng = np.random.default_rng(seed)
    m = strengths.size
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    wins = rng.random(n) < expit(strengths[a] - strengths[b])
    outcome = np.where(rng.random(n) < tie_rate, 0, np.where(wins, 1, -1))
    return a, b, outcome


def scipy_half_win_fit(a, b, outcome, m):
    """Reference: minimise the half-win negative log-likelihood with scipy directly."""
    y = (np.asarray(outcome) + 1) / 2.0

    def nll(r):
        d = r[a] - r[b]
        return np.sum(y * np.logaddexp(0, -d) + (1 - y) * np.logaddexp(0, d))

    r = minimize(nll, np.zeros(m), method="BFGS", options={"gtol": 1e-10}).x
    return (r - r.mean()) * SCALE + 1000


def scipy_davidson_fit(a, b, outcome, m):
    """Reference: Davidson's likelihood, params = ratings and log nu, with scipy directly."""
    o = np.asarray(outcome)

    def nll(params):
        r, log_nu = params[:m], params[m]
        u = 0.5 * (r[a] - r[b])
        log_z = np.logaddexp(np.logaddexp(u, -u), log_nu)
        log_p = np.where(o == 1, u, np.where(o == -1, -u, log_nu)) - log_z
        return -np.sum(log_p) + 0.5 * np.sum(r) ** 2  # pins the mean without changing the fit

    x = minimize(nll, np.zeros(m + 1), method="BFGS", options={"gtol": 1e-9}).x
    return (x[:m] - x[:m].mean()) * SCALE + 1000, math.exp(x[m])


def test_it_counts_cells_by_hand():
    counts = battle_cell_counts([0, 0, 1, 0], [1, 1, 0, 2], [1, 0, -1, 1], 3)
    assert counts.shape == (27,)
    assert counts[(0 * 3 + 1) * 3 + 2] == 1  # a=0, b=1, a wins
    assert counts[(0 * 3 + 1) * 3 + 1] == 1  # a=0, b=1, tie
    assert counts[(1 * 3 + 0) * 3 + 0] == 1  # a=1, b=0, b wins
    assert counts[(0 * 3 + 2) * 3 + 2] == 1
    assert counts.sum() == 4


def test_two_models_have_the_closed_form_rating_gap():
    # a beats b 3 times, loses once, ties twice: score 4 of 6 -> p = 2/3
    a, b = [0] * 6, [1] * 6
    outcome = [1, 1, 1, -1, 0, 0]
    board = bradley_terry_leaderboard(a, b, outcome, ["a", "b"], rounds=0)
    gap = 400 * math.log10(2)
    assert board.ratings == pytest.approx([1000 + gap / 2, 1000 - gap / 2])
    assert float(win_probability(board.ratings[0], board.ratings[1])) == pytest.approx(2 / 3)


def test_it_matches_a_direct_scipy_fit_with_ties_as_half_wins():
    a, b, outcome = synthetic_battles(3000, np.array([0.0, 0.4, -0.3, 1.0]), 0.2, seed=1)
    board = bradley_terry_leaderboard(a, b, outcome, list("wxyz"), rounds=0)
    np.testing.assert_allclose(board.ratings, scipy_half_win_fit(a, b, outcome, 4), atol=1e-3)
    assert board.ratings.mean() == pytest.approx(1000)
    assert board.converged


def test_the_davidson_fit_matches_a_direct_scipy_fit():
    a, b, outcome = synthetic_battles(3000, np.array([0.0, 0.4, -0.3, 1.0]), 0.2, seed=2)
    board = bradley_terry_leaderboard(a, b, outcome, list("wxyz"), rounds=0, tie_model="davidson")
    ratings, nu = scipy_davidson_fit(a, b, outcome, 4)
    np.testing.assert_allclose(board.ratings, ratings, atol=1e-3)
    assert board.tie_parameter == pytest.approx(nu, rel=1e-5)


def test_davidson_without_ties_is_plain_bradley_terry():
    a, b, outcome = synthetic_battles(2000, np.array([0.0, 0.5, -0.5]), 0.0, seed=3)
    half = bradley_terry_leaderboard(a, b, outcome, list("xyz"), rounds=0)
    davidson = bradley_terry_leaderboard(a, b, outcome, list("xyz"), rounds=0, tie_model="davidson")
    np.testing.assert_allclose(davidson.ratings, half.ratings, atol=1e-6)


def test_it_recovers_known_strengths():
    strengths = np.linspace(-1, 1, 6)
    a, b, outcome = synthetic_battles(200_000, strengths, 0.0, seed=4)
    board = bradley_terry_leaderboard(a, b, outcome, [f"m{i}" for i in range(6)], rounds=50, seed=0)
    np.testing.assert_allclose(board.ratings, strengths * SCALE + 1000, atol=6)
    assert np.all((board.lower <= board.ratings) & (board.ratings <= board.upper))
    np.testing.assert_array_equal(board.rank, [6, 5, 4, 3, 2, 1])
    np.testing.assert_array_equal(board.order(), [5, 4, 3, 2, 1, 0])


def test_an_anchor_fixes_one_model_and_keeps_the_gaps():
    a, b, outcome = synthetic_battles(5000, np.array([0.0, 0.4, -0.3]), 0.1, seed=5)
    free = bradley_terry_leaderboard(a, b, outcome, list("xyz"), rounds=20, seed=1)
    anchored = bradley_terry_leaderboard(
        a, b, outcome, list("xyz"), rounds=20, seed=1, anchor=("y", 1114.0)
    )
    assert anchored.rating_of("y") == 1114.0
    np.testing.assert_allclose(anchored.bootstrap_ratings[:, 1], 1114.0)
    np.testing.assert_allclose(
        anchored.ratings - anchored.ratings[0], free.ratings - free.ratings[0], atol=1e-9
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_ratings_do_not_depend_on_battle_order_or_side(seed):
    a, b, outcome = synthetic_battles(400, np.array([0.0, 0.3, -0.2, 0.5]), 0.2, seed=7)
    names = list("wxyz")
    base = bradley_terry_leaderboard(a, b, outcome, names, rounds=30, seed=seed)
    perm = np.random.default_rng(seed).permutation(a.size)
    shuffled = bradley_terry_leaderboard(
        a[perm], b[perm], outcome[perm], names, rounds=30, seed=seed
    )
    np.testing.assert_allclose(shuffled.ratings, base.ratings, atol=1e-9)
    np.testing.assert_allclose(shuffled.bootstrap_ratings, base.bootstrap_ratings, atol=1e-9)
    swapped = bradley_terry_leaderboard(b, a, -outcome, names, rounds=0)
    np.testing.assert_allclose(swapped.ratings, base.ratings, atol=1e-9)


def test_the_rank_is_fastchats():
    # model 0 is clearly best; 1 and 2 overlap; 3 is below everyone
    lower = np.array([1200, 1100, 1090, 900])
    upper = np.array([1250, 1150, 1120, 950])
    np.testing.assert_array_equal(rank_by_intervals(lower, upper), [1, 2, 2, 4])


def test_a_model_that_wins_everything_is_reported_as_not_converged():
    board = bradley_terry_leaderboard([0, 0, 1], [1, 2, 2], [1, 1, 0], list("xyz"), rounds=0)
    assert not board.converged
    assert board.ratings[0] > board.ratings[1]


def test_it_rejects_bad_battles():
    with pytest.raises(ValueError, match="itself"):
        bradley_terry_leaderboard([0], [0], [1], ["x", "y"])
    with pytest.raises(ValueError, match="without battles"):
        bradley_terry_leaderboard([0], [1], [1], ["x", "y", "z"])
    with pytest.raises(ValueError):
        bradley_terry_leaderboard([0], [1], [2], ["x", "y"])
    with pytest.raises(ValueError):
        bradley_terry_leaderboard([0], [5], [1], ["x", "y"])


def test_a_million_battles_with_100_rounds_converge():
    # Speed is measured in bench/stats_vs_fastchat.py, not here.
    a, b, outcome = synthetic_battles(1_000_000, np.linspace(-1.5, 1.5, 20), 0.15, seed=8)
    names = [f"m{i}" for i in range(20)]
    board = bradley_terry_leaderboard(a, b, outcome, names, rounds=100, seed=0)
    assert board.converged
    assert list(board.order()) == list(range(19, -1, -1))
