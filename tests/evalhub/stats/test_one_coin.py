"""The numpy one-coin Dawid-Skene equals crowd-kit's OneCoinDawidSkene without a prior."""

import warnings

import numpy as np
import pandas as pd
import pytest

from evalhub.stats.one_coin import one_coin_dawid_skene


def _study(seed: int, n_items: int = 40, n_raters: int = 12, k: int = 3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_items)
    skill = rng.uniform(0.3, 0.95, n_raters)
    item = np.repeat(np.arange(n_items), k)
    rater = np.concatenate([rng.choice(n_raters, k, replace=False) for _ in range(n_items)])
    right = rng.random(item.size) < skill[rater]
    label = np.where(right, truth[item], rng.integers(0, 3, item.size))
    return item * 7 + 3, rater * 5, label  # codes need not be dense


@pytest.mark.parametrize("seed", range(5))
def test_it_equals_crowd_kit_without_a_prior(seed):
    from crowdkit.aggregation import OneCoinDawidSkene

    item, rater, label = _study(seed)
    mine = one_coin_dawid_skene(item, rater, label, n_classes=3, skill_prior=None)
    frame = pd.DataFrame({"task": item, "worker": rater, "label": label})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = OneCoinDawidSkene(n_iter=100, tol=1e-5).fit(frame)
    proba = theirs.probas_.sort_index().reindex(columns=[0, 1, 2], fill_value=0.0)
    assert np.array_equal(mine.items, proba.index.to_numpy())
    np.testing.assert_allclose(mine.proba, proba.to_numpy(), atol=1e-9)
    assert np.array_equal(mine.label, theirs.labels_.sort_index().to_numpy())
    skills = theirs.skills_.sort_index()
    np.testing.assert_allclose(mine.skill, skills.to_numpy(), atol=1e-9)
    assert mine.iterations == len(theirs.loss_history_)


def test_a_prior_pulls_a_short_record_toward_its_mean():
    item, rater, label = _study(0)
    free = one_coin_dawid_skene(item, rater, label, n_classes=3, skill_prior=None)
    held = one_coin_dawid_skene(item, rater, label, n_classes=3, skill_prior=(6.0, 2.0))
    assert np.abs(held.skill - 0.75).mean() < np.abs(free.skill - 0.75).mean()


def test_no_judgments_gives_an_empty_fit():
    fit = one_coin_dawid_skene([], [], [], n_classes=3)
    assert fit.items.size == 0 and fit.proba.shape == (0, 3)
