"""Sample-size planning for the sign test."""

import math

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from evalhub.stats.power import exact_power, normal_power, prompts_needed


def brute_force_power(n: int, win_rate: float, tie_rate: float, alpha: float) -> float:
    """Enumerate decisive counts and wins, asking scipy's binomtest each time."""
    total = 0.0
    for d in range(n + 1):
        p_d = binom.pmf(d, n, 1 - tie_rate)
        for k in range(d + 1):
            if d and binomtest(k, d, 0.5).pvalue <= alpha:
                total += p_d * binom.pmf(k, d, win_rate)
    return total


def test_the_normal_approximation_by_hand():
    # ((1.959964 * 0.5 + 0.841621 * sqrt(0.24)) / 0.1)^2 = 193.85 -> 194
    plan = prompts_needed(0.6)
    assert plan.n_prompts == 194 and plan.method == "normal"
    assert plan.achieved_power == pytest.approx(0.8, abs=0.005)
    # 20% ties: 193.85 / 0.8 = 242.3 -> 243
    assert prompts_needed(0.6, tie_rate=0.2).n_prompts == 243


def test_the_normal_plan_is_symmetric_in_the_gap():
    assert prompts_needed(0.4).n_prompts == prompts_needed(0.6).n_prompts


@pytest.mark.parametrize(("n", "win_rate", "tie_rate"), [(12, 0.9, 0.0), (20, 0.7, 0.25)])
def test_exact_power_matches_brute_force(n, win_rate, tie_rate):
    assert exact_power(n, win_rate, tie_rate=tie_rate) == pytest.approx(
        brute_force_power(n, win_rate, tie_rate, 0.05), abs=1e-12
    )


def test_the_exact_plan_by_hand():
    # n = 12: reject k <= 2 or k >= 10 (2 P(X <= 2) = 0.039); P(X >= 10 | 0.9) = 0.889.
    # n = 11: reject k <= 1 or k >= 10; P(X >= 10 | 0.9) = 0.697 < 0.8
    plan = prompts_needed(0.9, method="exact")
    assert plan.n_prompts == 12
    assert plan.achieved_power == pytest.approx(0.8891300277, abs=1e-9)


@pytest.mark.parametrize("tie_rate", [0.0, 0.2])
def test_the_exact_plan_is_the_first_n_that_reaches_the_power(tie_rate):
    plan = prompts_needed(0.6, tie_rate=tie_rate, method="exact")
    n = plan.n_prompts
    assert exact_power(n, 0.6, tie_rate=tie_rate) >= 0.8
    earlier = [exact_power(k, 0.6, tie_rate=tie_rate) for k in range(max(1, n - 40), n)]
    assert max(earlier) < 0.8
    assert math.isclose(plan.n_decisive, n * (1 - tie_rate))


def test_normal_power_grows_with_prompts():
    powers = normal_power(np.arange(10, 500, 10), 0.6)
    assert np.all(np.diff(powers) > 0)


def test_it_rejects_impossible_plans():
    with pytest.raises(ValueError):
        prompts_needed(0.5)
    with pytest.raises(ValueError):
        prompts_needed(0.6, tie_rate=1.0)
    with pytest.raises(ValueError):
        prompts_needed(0.6, null_win_rate=0.4, method="exact")


def test_prompts_for_interval_width_matches_the_normal_interval():
    from scipy.stats import norm

    from evalhub.stats.power import prompts_for_interval_width

    n = prompts_for_interval_width([0.1, 0.2])
    z = norm.ppf(0.975)
    assert list(n) == [385, 97]  # (2 * 1.96)^2 / 4 / w^2, rounded up
    # The interval at that n is no wider than asked, and one prompt fewer would be wider.
    for width, prompts in zip([0.1, 0.2], n, strict=True):
        assert 2 * z * (0.25 / prompts) ** 0.5 <= width < 2 * z * (0.25 / (prompts - 1)) ** 0.5
    with pytest.raises(ValueError):
        prompts_for_interval_width(0.0)
