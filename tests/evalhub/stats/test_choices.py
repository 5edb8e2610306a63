"""k-way choice shares and Arena-Hard's weighted win rate, checked by hand."""

import numpy as np
import pytest

from evalhub.stats import choice_shares, weighted_win_rate


def test_choice_shares_count_every_choice():
    shares = choice_shares([0, 0, 1, 3, 3, 3], ["A", "B", "tie", "both_bad"])
    assert shares.n == 6
    assert [s.count for s in shares.shares] == [2, 1, 0, 3]
    assert shares.shares[3].share == 0.5
    assert shares.shares[2].wilson.low == 0.0 and 0 < shares.shares[2].wilson.high < 0.5


def test_the_weighted_win_rate_counts_a_strong_preference_three_times():
    # Target-side judgments: 2x strong win (w3), 1x win, 1x tie, 1x loss, 1x strong loss (w3).
    points = [1, 1, 1, 0.5, 0, 0]
    weights = [3, 3, 1, 1, 1, 3]
    rate = weighted_win_rate(points, weights)
    # Arena-Hard: "A>>B" scores [1]*3, "A>B" [1], "A=B" [0.5], "B>A" [0], "B>>A" [0]*3.
    by_hand = (3 + 3 + 1 + 0.5 + 0 + 0) / (3 + 3 + 1 + 1 + 1 + 3)
    assert rate.weighted_win_rate == pytest.approx(by_hand) == pytest.approx(7.5 / 12)
    assert rate.win_rate == pytest.approx(3.5 / 6)
    assert rate.n == 6 and rate.weighted_n == 12


def test_the_weighted_win_rate_has_a_clustered_bootstrap_interval():
    rng = np.random.default_rng(1)
    points = rng.choice([0, 0.5, 1], size=200)
    weights = rng.choice([1, 3], size=200)
    rate = weighted_win_rate(points, weights, np.arange(200) // 2, rounds=500, seed=0)
    assert rate.interval.low < rate.weighted_win_rate < rate.interval.high


def test_bad_points_are_refused():
    with pytest.raises(ValueError):
        weighted_win_rate([0.3], [1])
