"""One-coin Dawid-Skene (Zhang et al. 2016): each rater gives the true class with
probability `skill`, else one of the other classes uniformly; optionally with a Beta prior
on each skill, which keeps a rater with ten judgments from an extreme estimate.

Written in numpy rather than called from crowd-kit because crowd-kit's OneCoinDawidSkene
runs its M-step as a pandas `apply` per (rater, label) row: 0.29 s for a 60-item, k = 3
study on this machine against about 1 ms here, and the simulation harness fits thousands
of studies. Without a prior (`skill_prior=None`) the iterations, stopping rule and results
are crowd-kit 1.4.2's own (tests/evalhub/stats/test_one_coin.py checks equality).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_EPS = 1e-10  # crowd-kit's clip
N_ITER = 100
TOL = 1e-5
# Beta(a, b) on each rater's skill: a prior mean of 0.75 worth 8 judgments. Chosen on the
# simulation table (bench/crowd_simulation.py), where it beats both no prior and 4 or 16.
SKILL_PRIOR = (6.0, 2.0)


@dataclass(frozen=True)
class OneCoinResult:
    """`items`: item codes with judgments, sorted, with `label` and `proba` (items x
    classes); `raters`: rater codes, sorted, with `skill` (P(gives the true class));
    `priors`: fitted class shares; `iterations` run."""

    items: NDArray[np.int64]
    label: NDArray[np.int64]
    proba: NDArray[np.float64]
    raters: NDArray[np.int64]
    skill: NDArray[np.float64]
    priors: NDArray[np.float64]
    iterations: int


def _errors(skill: NDArray, n_classes: int) -> tuple[NDArray, NDArray]:
    """log P(label | true class) for label == class and for label != class, per rater."""
    right = np.clip(skill, _EPS, 1 - _EPS)
    wrong = np.clip((1 - skill) / max(n_classes - 1, 1), _EPS, 1 - _EPS)
    return right, wrong


def _e_step(
    ti: NDArray, wi: NDArray, li: NDArray, priors: NDArray, skill: NDArray, shape: tuple
) -> NDArray:
    n_items, n_classes = shape
    right, wrong = _errors(skill, n_classes)
    log_l = np.tile(np.log2(np.clip(priors, _EPS, None)), (n_items, 1))
    log_right, log_wrong = np.log2(right[wi]), np.log2(wrong[wi])
    for c in range(n_classes):  # bincount per class: far faster than np.add.at
        log_l[:, c] += np.bincount(ti, weights=np.where(li == c, log_right, log_wrong),
                                   minlength=n_items)  # fmt: skip
    scaled = np.exp2(log_l - log_l.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def _skills(
    ti: NDArray, wi: NDArray, li: NDArray, proba: NDArray, n_raters: int,
    prior: tuple[float, float] | None,
) -> NDArray:  # fmt: skip
    hit = np.bincount(wi, weights=proba[ti, li], minlength=n_raters)
    n = np.bincount(wi, minlength=n_raters).astype(np.float64)
    if prior is None:
        return hit / np.maximum(n, 1)
    a, b = prior  # the posterior mode of Beta(a, b) after n tries with `hit` successes
    return (hit + a - 1) / (n + a + b - 2)


def _elbo(ti, wi, li, proba, priors, skill, n_classes) -> float:
    right, wrong = _errors(skill, n_classes)
    log_e = np.repeat(np.log(wrong[wi])[:, None], n_classes, axis=1)
    log_e[np.arange(li.size), li] = np.log(right[wi])
    # crowd-kit adds the log prior once per judgment (not per item); kept for equality
    joint = (proba[ti] * (log_e + np.log(np.clip(priors, _EPS, None)))).sum()
    p = np.clip(proba, _EPS, None)
    return float(joint - (np.log(p) * p).sum())


def one_coin_dawid_skene(
    item: ArrayLike, rater: ArrayLike, label: ArrayLike, *, n_classes: int,
    skill_prior: tuple[float, float] | None = SKILL_PRIOR, n_iter: int = N_ITER,
    tol: float = TOL,
) -> OneCoinResult:  # fmt: skip
    """Fit the one-coin model to one judgment per entry (item and rater codes, label
    classes 0..n_classes-1). Starts, as crowd-kit does, from the majority vote's shares."""
    item = np.asarray(item, dtype=np.int64)
    rater = np.asarray(rater, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    items, ti = np.unique(item, return_inverse=True)
    raters, wi = np.unique(rater, return_inverse=True)
    ti, wi = ti.reshape(-1), wi.reshape(-1)
    if not item.size:
        empty = np.zeros(0, dtype=np.int64)
        return OneCoinResult(empty, empty, np.zeros((0, n_classes)), empty, np.zeros(0),
                             np.full(n_classes, np.nan), 0)  # fmt: skip
    # crowd-kit's classes are the labels present; absent ones get probability 0
    present = np.unique(label)
    li = np.searchsorted(present, label)
    k = present.size
    shape = (items.size, k)
    votes = np.bincount(ti * k + li, minlength=shape[0] * k).reshape(shape).astype(np.float64)
    proba = votes / votes.sum(axis=1, keepdims=True)
    priors = proba.mean(axis=0)
    skill = _skills(ti, wi, li, proba, raters.size, skill_prior)
    loss, done = -np.inf, 0
    while done < n_iter:
        done += 1
        proba = _e_step(ti, wi, li, priors, skill, shape)
        priors = proba.mean(axis=0)
        skill = _skills(ti, wi, li, proba, raters.size, skill_prior)
        new_loss = _elbo(ti, wi, li, proba, priors, skill, k) / li.size
        if new_loss - loss < tol:
            break
        loss = new_loss
    full = np.zeros((items.size, n_classes))
    full[:, present] = proba
    full_priors = np.zeros(n_classes)
    full_priors[present] = priors
    return OneCoinResult(
        items=items, label=full.argmax(axis=1).astype(np.int64), proba=full, raters=raters,
        skill=skill, priors=full_priors, iterations=done,
    )  # fmt: skip
