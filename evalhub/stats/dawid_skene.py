"""Aggregation by rater reliability: Dawid-Skene through crowd-kit (crowdkit.aggregation),
not a hand-written EM, so our numbers are crowd-kit's on the same data."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pandas.errors import Pandas4Warning

N_ITER = 100
TOL = 1e-5


@dataclass(frozen=True)
class DawidSkeneResult:
    """`items`: the item codes that had judgments, sorted; `label` and `proba`
    (items x classes) aligned with them; `raters`: rater codes, sorted, with `reliability`
    (each rater's estimated probability of giving the true class, under the fitted
    priors); `priors`: the fitted class shares."""

    items: NDArray[np.int64]
    label: NDArray[np.int64]
    proba: NDArray[np.float64]
    raters: NDArray[np.int64]
    reliability: NDArray[np.float64]
    priors: NDArray[np.float64]


def _frame(item: ArrayLike, rater: ArrayLike, label: ArrayLike) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": np.asarray(item, dtype=np.int64),
            "worker": np.asarray(rater, dtype=np.int64),
            "label": np.asarray(label, dtype=np.int64),
        }
    )


def dawid_skene(
    item: ArrayLike, rater: ArrayLike, label: ArrayLike, *, n_classes: int,
    n_iter: int = N_ITER, tol: float = TOL,
) -> DawidSkeneResult:  # fmt: skip
    """Fit Dawid-Skene (crowd-kit's DawidSkene) to one judgment per entry: item and rater
    codes, label classes 0..n_classes-1."""
    from crowdkit.aggregation import DawidSkene  # heavy import, only when aggregating

    frame = _frame(item, rater, label)
    if frame.empty:
        empty = np.zeros(0, dtype=np.int64)
        return DawidSkeneResult(empty, empty, np.zeros((0, n_classes)), empty, np.zeros(0),
                                np.full(n_classes, np.nan))  # fmt: skip
    with warnings.catch_warnings():  # crowd-kit 1.4.2 still passes pandas 3's old keywords
        warnings.simplefilter("ignore", Pandas4Warning)
        model = DawidSkene(n_iter=n_iter, tol=tol).fit(frame)
    classes = np.arange(n_classes)
    proba = model.probas_.reindex(columns=classes, fill_value=0.0).sort_index()
    priors = model.priors_.reindex(classes, fill_value=0.0).to_numpy(dtype=np.float64)
    # errors_: rows (worker, given label), columns true label. A rater's reliability is
    # the chance their label is the true one: sum over classes of prior x P(c | c).
    errors = model.errors_.reindex(columns=classes, fill_value=0.0).stack()
    given = errors.index.get_level_values(1).to_numpy()
    true = errors.index.get_level_values(2).to_numpy()
    same = given == true
    weighted = errors[same] * priors[true[same].astype(np.intp)]
    reliability = weighted.groupby(level=0).sum().sort_index()
    return DawidSkeneResult(
        items=proba.index.to_numpy(dtype=np.int64),
        label=model.labels_.reindex(proba.index).to_numpy(dtype=np.int64),
        proba=proba.to_numpy(dtype=np.float64),
        raters=reliability.index.to_numpy(dtype=np.int64),
        reliability=reliability.to_numpy(dtype=np.float64),
        priors=priors,
    )


def majority_vote(
    item: ArrayLike, label: ArrayLike, n_items: int, n_classes: int, *, tie_class: int | None
) -> NDArray[np.float64]:
    """Each item's majority class (NaN: no judgments, or a split top on a scale without a
    tie class; a split top is a tie where there is one)."""
    item, label = np.asarray(item, dtype=np.intp), np.asarray(label, dtype=np.intp)
    counts = np.bincount(item * n_classes + label, minlength=n_items * n_classes)
    counts = counts.reshape(n_items, n_classes)
    top = counts.max(axis=1) if n_items else np.zeros(0)
    split = (counts == top[:, None]).sum(axis=1) > 1
    out = counts.argmax(axis=1).astype(np.float64)
    out[split] = np.nan if tie_class is None else tie_class
    out[counts.sum(axis=1) == 0] = np.nan
    return out
