"""Win rate by length difference."""

import numpy as np

from evalhub.stats.length_bias import (
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
