"""Fail/Pass/Excellent distributions and the Wilson interval."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from evalhub.stats.ratings import (
    EXCELLENT,
    FAIL,
    PASS,
    label_distribution,
    label_distributions_by,
    wilson_interval,
)


def score_test_bounds(k: int, n: int, level: float) -> tuple[float, float]:
    """Invert the score test by hand: the roots in p of (k/n - p)^2 = z^2 p (1 - p) / n."""
    z2, phat = norm.ppf(0.5 + level / 2) ** 2, k / n
    # (1 + z2/n) p^2 - (2 phat + z2/n) p + phat^2 = 0
    roots = np.roots([1 + z2 / n, -(2 * phat + z2 / n), phat**2])
    return float(min(roots.real)), float(max(roots.real))


@pytest.mark.parametrize(("k", "n"), [(5, 10), (1, 50), (25, 50), (49, 50), (81, 263)])
def test_wilson_is_the_inverted_score_test(k, n):
    low, high = wilson_interval(k, n, 0.95)
    assert (float(low), float(high)) == pytest.approx(score_test_bounds(k, n, 0.95))


def test_wilson_at_zero_successes():
    low, high = wilson_interval(0, 10, 0.95)
    z2 = norm.ppf(0.975) ** 2
    assert float(low) == 0.0
    assert float(high) == pytest.approx(z2 / (10 + z2))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_share(case):
    k, n = case
    low, high = wilson_interval(k, n)
    assert low <= k / n <= high


def test_it_reproduces_limas_50_prompt_distribution():
    # LIMA Section 4.3: 50% Excellent, 38% Pass, 12% Fail on 50 prompts
    labels = np.array([EXCELLENT] * 25 + [PASS] * 19 + [FAIL] * 6)
    result = label_distribution(labels, np.arange(50), rounds=300, seed=0)
    assert [s.share for s in result.shares] == [0.12, 0.38, 0.5]
    assert result.share("Excellent").count == 25
    assert result.share(EXCELLENT) is result.share("Excellent")
    for share in result.shares:
        assert share.wilson.contains(share.share)
        assert share.bootstrap is not None and share.bootstrap.contains(share.share)


def test_it_skips_the_bootstrap_unless_asked():
    result = label_distribution([0, 1, 2])
    assert all(share.bootstrap is None for share in result.shares)
    assert result.n_prompts == 3


def test_it_splits_by_model_and_category():
    labels = [2, 2, 1, 0, 2, 1]
    models = ["lima", "lima", "lima", "alpaca", "alpaca", "alpaca"]
    result = label_distributions_by(labels, models)
    assert list(result) == ["alpaca", "lima"]
    assert result["lima"].share("Excellent").share == pytest.approx(2 / 3)
    assert result["alpaca"].share("Fail").count == 1


def test_it_rejects_unknown_labels():
    with pytest.raises(ValueError):
        label_distribution([3])
    with pytest.raises(ValueError):
        label_distribution([])
