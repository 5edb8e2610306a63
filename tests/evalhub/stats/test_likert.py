"""Mean Likert scores with a t-interval or a clustered bootstrap interval."""

import numpy as np
import pytest
from scipy import stats

from evalhub.stats.likert import likert_mean


def test_the_t_interval_is_scipys_over_prompt_means():
    rng = np.random.default_rng(0)
    scores = rng.integers(1, 7, size=(40, 5))  # 40 prompts x 5 sampled responses
    prompts = np.repeat(np.arange(40), 5)
    result = likert_mean(scores.ravel(), prompts)
    means = scores.mean(axis=1)
    low, high = stats.t.interval(0.95, 39, loc=means.mean(), scale=stats.sem(means))
    assert result.method == "t"
    assert (result.low, result.high) == pytest.approx((low, high))
    assert result.mean == pytest.approx(scores.mean())
    assert (result.n_prompts, result.n_scores, result.rounds) == (40, 200, 0)


def test_each_prompt_weighs_equally():
    # prompt a: 6, 6, 6, 6; prompt b: 2 -> mean of prompt means 4, not 5.2
    assert likert_mean([6, 6, 6, 6, 2], ["a", "a", "a", "a", "b"]).mean == 4.0


def test_the_bootstrap_interval_names_its_method_and_contains_the_mean():
    rng = np.random.default_rng(1)
    scores = rng.integers(1, 7, size=300)
    prompts = np.repeat(np.arange(60), 5)
    result = likert_mean(scores, prompts, method="cluster-bootstrap-percentile", seed=3)
    assert result.method == "cluster-bootstrap-percentile"
    assert result.rounds == 2000
    assert result.low < result.mean < result.high
    t_result = likert_mean(scores, prompts)
    # both intervals estimate the same spread
    assert (result.high - result.low) == pytest.approx(t_result.high - t_result.low, rel=0.2)
    again = likert_mean(scores, prompts, method="cluster-bootstrap-percentile", seed=3)
    assert again == result


def test_one_prompt_has_no_t_interval():
    result = likert_mean([3, 4], [1, 1])
    assert result.mean == 3.5 and np.isnan(result.low) and np.isnan(result.high)


def test_it_rejects_scores_off_the_scale_and_unknown_methods():
    with pytest.raises(ValueError):
        likert_mean([0, 3])
    with pytest.raises(ValueError):
        likert_mean([7])
    with pytest.raises(ValueError):
        likert_mean([3, 4], method="bayes")  # type: ignore[arg-type]
