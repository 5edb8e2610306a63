"""Length bias: does the longer response win, and what is the win rate once length is held out.

length_diff is len(target) - len(baseline) in any unit (characters, tokens), per judgment.
Win rates count a tie as half a win ("preferred rate").

The length-controlled win rate follows AlpacaEval 2's GLM in spirit: a logistic regression
of P(target preferred) on one intercept per study plus gamma * tanh(length_diff / sd), where
sd is the standard deviation of all length differences; ties enter as y = 0.5. The LC win
rate of a study is the fitted probability with the length term set to 0: sigmoid(intercept).
A small ridge keeps the fit finite on tiny or perfectly separated data (e.g. all wins).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit

from evalhub.stats.bootstrap import coded_values

VERDICT_CODES = (-1, 0, 1)
DEFAULT_RIDGE = 1e-3


def _verdicts_and_lengths(
    verdicts: ArrayLike, length_diff: ArrayLike
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    codes = coded_values(verdicts, VERDICT_CODES, "verdicts") - 1
    diff = np.asarray(length_diff, dtype=np.float64)
    if diff.shape != codes.shape:
        raise ValueError("verdicts and length_diff must be aligned 1-d arrays")
    if codes.size == 0:
        raise ValueError("need at least one judgment")
    if not np.all(np.isfinite(diff)):
        raise ValueError("length_diff must be finite")
    return codes, diff


@dataclass(frozen=True, slots=True)
class LengthBinnedWinRate:
    """Win/tie/loss counts and preferred rate per bin of length difference.

    Bin i holds edges[i] <= length_diff < edges[i + 1] (the last bin includes its right
    edge). preferred_rate = (wins + ties / 2) / n, NaN for an empty bin.
    """

    edges: NDArray[np.float64]
    n: NDArray[np.int64]
    wins: NDArray[np.int64]
    ties: NDArray[np.int64]
    losses: NDArray[np.int64]
    preferred_rate: NDArray[np.float64]


def win_rate_by_length(
    verdicts: ArrayLike, length_diff: ArrayLike, *, bins: int | ArrayLike = 5
) -> LengthBinnedWinRate:
    """Preferred rate of the target per length-difference bin.

    bins: a number of quantile bins (edges merged where quantiles coincide) or explicit
    increasing edges; judgments outside explicit edges are dropped.
    """
    codes, diff = _verdicts_and_lengths(verdicts, length_diff)
    if np.ndim(bins) == 0:
        n_bins = int(bins)  # type: ignore[arg-type]
        if n_bins < 1:
            raise ValueError("bins must be >= 1")
        edges = np.unique(np.quantile(diff, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.size == 1:  # all differences equal: one degenerate bin
            edges = np.array([edges[0], edges[0]])
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
            raise ValueError("bin edges must be an increasing 1-d array of >= 2 values")
    n_bins = edges.size - 1
    inside = (diff >= edges[0]) & (diff <= edges[-1])
    index = np.clip(np.searchsorted(edges, diff[inside], side="right") - 1, 0, n_bins - 1)
    table = np.bincount(index * 3 + codes[inside] + 1, minlength=n_bins * 3).reshape(n_bins, 3)
    losses, ties, wins = table[:, 0], table[:, 1], table[:, 2]
    n = table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, (wins + 0.5 * ties) / n, np.nan)
    return LengthBinnedWinRate(edges, n, wins, ties, losses, rate)


@dataclass(frozen=True, slots=True)
class LengthControlledWinRate:
    """Raw and length-controlled preferred rates per study (index-aligned with `studies`).

    length_coefficient: gamma, the log-odds change per unit of tanh(length_diff / sd)
    (positive: longer answers are preferred). length_scale: sd used inside tanh (0 when
    all differences are equal, in which case the length term is dropped).
    """

    studies: tuple[Hashable, ...]
    n: NDArray[np.int64]
    raw_win_rate: NDArray[np.float64]
    length_controlled_win_rate: NDArray[np.float64]
    length_coefficient: float
    length_scale: float
    converged: bool


def _row_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError("weights must be aligned with verdicts")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    return w


def length_controlled_win_rate(
    verdicts: ArrayLike,
    length_diff: ArrayLike,
    study_ids: ArrayLike | None = None,
    *,
    ridge: float = DEFAULT_RIDGE,
    weights: ArrayLike | None = None,
) -> LengthControlledWinRate:
    """Fit the length GLM and return LC win rates (see module docstring).

    verdicts: (n,) -1/0/1 target perspective; length_diff: (n,) target minus baseline
    length; study_ids: (n,) labels (None: a single study). ridge: L2 weight on all
    coefficients, in log-likelihood units. weights: (n,) optional counts, row i standing for
    weights[i] identical judgments (None: 1 each). Collapsing judgments into unique
    (verdict, length_diff, study) rows with their counts gives the same fit as the expanded
    rows, in far fewer rows; `n` is then the summed weights per study. Zero-weight rows are
    ignored (a study with only those is left out).
    """
    codes, diff = _verdicts_and_lengths(verdicts, length_diff)
    labels = np.zeros(codes.size, dtype=np.int64) if study_ids is None else np.asarray(study_ids)
    if labels.shape != codes.shape:
        raise ValueError("study_ids must be aligned with verdicts")
    w = _row_weights(weights, codes.size)
    if w is not None:
        keep = w > 0
        if not keep.any():
            raise ValueError("need at least one judgment with a positive weight")
        codes, diff, labels, w = codes[keep], diff[keep], labels[keep], w[keep]
    names, study = np.unique(labels, return_inverse=True)
    study, n_studies = study.reshape(-1), int(names.size)
    y = (codes + 1) / 2.0  # 0 loss, 0.5 tie, 1 win
    if w is None:
        scale = float(diff.std())
        n = np.bincount(study, minlength=n_studies)
    else:
        mean = float(np.sum(w * diff) / np.sum(w))
        scale = float(np.sqrt(np.sum(w * (diff - mean) ** 2) / np.sum(w)))
        n = np.bincount(study, weights=w, minlength=n_studies)
    feature = np.tanh(diff / scale) if scale > 0 else np.zeros_like(diff)
    wy = y if w is None else w * y
    raw = np.bincount(study, weights=wy, minlength=n_studies) / n

    def loss_and_grad(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        logit = theta[study] + theta[-1] * feature
        # binary cross-entropy with soft targets: y log(1+e^-z) + (1-y) log(1+e^z)
        per_row = y * np.logaddexp(0.0, -logit) + (1 - y) * np.logaddexp(0.0, logit)
        resid = expit(logit) - y
        if w is not None:
            per_row, resid = w * per_row, w * resid
        loss = float(np.sum(per_row))
        grad = np.empty_like(theta)
        grad[:-1] = np.bincount(study, weights=resid, minlength=n_studies)
        grad[-1] = float(resid @ feature)
        return loss + 0.5 * ridge * float(theta @ theta), grad + ridge * theta

    start = np.zeros(n_studies + 1)
    result = minimize(
        loss_and_grad, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-10}
    )
    return LengthControlledWinRate(
        studies=tuple(s.item() for s in names),
        n=np.rint(n).astype(np.int64),
        raw_win_rate=raw,
        length_controlled_win_rate=expit(result.x[:-1]),
        length_coefficient=float(result.x[-1]),
        length_scale=scale,
        converged=bool(result.success),
    )
