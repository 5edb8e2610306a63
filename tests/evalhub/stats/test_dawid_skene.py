"""Dawid-Skene through evalhub.stats equals crowd-kit called directly on the same data."""

import numpy as np
import pandas as pd
import pytest

from evalhub.stats.dawid_skene import dawid_skene, majority_vote


def _judgments(seed: int = 3):
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, size=80, p=(0.3, 0.2, 0.5))
    item = np.repeat(np.arange(80), 6)
    rater = np.concatenate([rng.choice(15, size=6, replace=False) for _ in range(80)])
    good = rater < 10
    label = np.where(
        good & (rng.random(item.size) < 0.85), truth[item], rng.integers(0, 3, item.size)
    )
    return item, rater, label


def test_it_equals_crowd_kit_on_the_same_data():
    from crowdkit.aggregation import DawidSkene  # heavy: not on collection

    item, rater, label = _judgments()
    ours = dawid_skene(item, rater, label, n_classes=3)
    theirs = DawidSkene(n_iter=100, tol=1e-5).fit(
        pd.DataFrame({"task": item, "worker": rater, "label": label})
    )
    probas = theirs.probas_.reindex(index=ours.items, columns=[0, 1, 2])
    np.testing.assert_allclose(ours.proba, probas.to_numpy(), rtol=1e-12, atol=1e-12)
    assert (ours.label == theirs.labels_.reindex(ours.items).to_numpy()).all()
    np.testing.assert_allclose(ours.priors, theirs.priors_.reindex([0, 1, 2]).to_numpy())
    # Reliability: P(label = truth) under the fitted priors and confusion matrices.
    errors = theirs.errors_
    for w in range(15):
        expected = sum(theirs.priors_[c] * errors.loc[(w, c), c] for c in range(3))
        assert ours.reliability[list(ours.raters).index(w)] == pytest.approx(expected)
    assert ours.reliability[ours.raters < 10].min() > ours.reliability[ours.raters >= 10].max()


def test_majority_vote_splits_are_ties_or_nothing():
    item = np.array([0, 0, 0, 1, 1, 2])
    label = np.array([2, 2, 0, 0, 2, 1])
    assert majority_vote(item, label, 4, 3, tie_class=1).tolist()[:3] == [2, 1, 1]
    with_none = majority_vote(item, label, 4, 3, tie_class=None)
    assert with_none[0] == 2 and np.isnan(with_none[1]) and np.isnan(with_none[3])
