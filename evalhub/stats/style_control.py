"""Style-controlled Bradley-Terry: FastChat's `compute_style_control`, fitted by Newton steps.

The model (FastChat rating_systems.py, "contextual BT"), per battle i:
    logit P(a wins) = alpha (r_a - r_b) + f_i . beta,   alpha = ln 10
with a tie counted as half a win (outcome 0.5). The style features f_i are FastChat's:
for each of (tokens, headers, lists, bold), d = (x_a - x_b) / (x_a + x_b + 1), then each
column standardised by its mean and population standard deviation over all battles.
The loss is the summed log loss plus (reg / 2) |theta|^2 over ratings and coefficients
alike (reg = 0.5, FastChat's default). Ratings are reported as 400 r + 1000.

FastChat minimises it with L-BFGS-B (100 iterations at most, from zeros), once per bootstrap
round in a process pool. The penalised loss is strictly convex with only M + 4 parameters,
so exact Newton steps (Hessian assembled by bincount, a few O(n) passes per step) reach the
same optimum in 4-6 steps; bootstrap rounds start from the point fit and take 2-3.
(bench/stats_vs_fastchat.py measures the two on 1e6 battles.)

Bootstrap rounds resample battles with replacement (FastChat: np.random.randint indexes),
drawn here as each battle's multiplicity; features keep the full-data normalisation, as
upstream. Coefficient beta_j is in logits per standard deviation of feature j; in rating
points that is beta_j * 400 / ln 10 ("+1 sd of length is worth +X points").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit
from threadpoolctl import threadpool_limits

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    SeedLike,
    as_generator,
    check_level,
    check_rounds,
    percentile_bounds,
)
from evalhub.stats.bradley_terry import rank_by_intervals

STYLE_FEATURES = ("length", "headers", "lists", "bold")
DEFAULT_REG = 0.5
DEFAULT_STYLE_ROUNDS = 100
BOOT_TOL = 1e-6  # log10 units: 4e-4 rating points, far below any interval's width


@dataclass(frozen=True, slots=True)
class StyleControlledLeaderboard:
    """Style-controlled ratings for `models` (index-aligned) and the style coefficients.

    coefficients: logits per sd of each STYLE_FEATURES column; coefficient_points: the same
    in rating points. lower/upper: percentile bootstrap bounds at `level` (for ratings and
    coefficients). feature_mean/feature_std: the normalisation of the raw ratio features.
    """

    models: tuple[str, ...]
    ratings: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    rank: NDArray[np.int64]
    coefficients: NDArray[np.float64]
    coefficient_lower: NDArray[np.float64]
    coefficient_upper: NDArray[np.float64]
    feature_names: tuple[str, ...]
    feature_mean: NDArray[np.float64]
    feature_std: NDArray[np.float64]
    bootstrap_ratings: NDArray[np.float64]
    bootstrap_coefficients: NDArray[np.float64]
    n_battles: int
    reg: float
    scale: float
    init_rating: float
    level: float
    rounds: int
    converged: bool

    @property
    def coefficient_points(self) -> NDArray[np.float64]:
        """Rating points that +1 sd of each feature is worth (same sign as the logit)."""
        return self.coefficients * self.scale / math.log(10.0)

    def order(self) -> NDArray[np.intp]:
        """Model indices from the highest rating to the lowest."""
        return np.argsort(-self.ratings, kind="stable")


def style_design(
    side_a: ArrayLike, side_b: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """FastChat's normalised style features from raw (n, k) counts per side.

    Returns (features (n, k), mean (k,), std (k,)). A column without variation (e.g. no
    answer ever has a header) has std 0; upstream would divide by it and get NaN, so it is
    set to 0 here and its coefficient is then 0 under the ridge.
    """
    xa = np.asarray(side_a, dtype=np.float64)
    xb = np.asarray(side_b, dtype=np.float64)
    if xa.ndim != 2 or xa.shape != xb.shape:
        raise ValueError("side_a and side_b must be aligned (n, k) arrays")
    if np.any(xa < 0) or np.any(xb < 0) or not np.all(np.isfinite(xa + xb)):
        raise ValueError("style counts must be finite and non-negative")
    diff = (xa - xb) / (xa + xb + 1.0)
    mean = diff.mean(axis=0)
    std = diff.std(axis=0)
    safe = np.where(std > 0, std, 1.0)
    features = (diff - mean) / safe
    features[:, std == 0] = 0.0
    return features, mean, std


@dataclass(frozen=True, slots=True)
class StyleDesign:
    """The battles as the fit reads them, built once (the bootstrap reuses it every round).

    features_t is (k, n), row-major: each pass over one feature reads contiguous memory
    (bincount over a strided column is ~5x slower at n = 1e6)."""

    a: NDArray[np.intp]
    b: NDArray[np.intp]
    cell: NDArray[np.intp]  # (k * n,): j * M * M + a * M + b, for the cross block
    features_t: NDArray[np.float64]
    y: NDArray[np.float64]
    n_models: int


def style_design_matrix(
    a: NDArray[np.intp], b: NDArray[np.intp], feats: NDArray[np.float64], y: NDArray, m: int
) -> StyleDesign:
    """The fit's view of the battles: model indices, features by column, outcomes."""
    k = feats.shape[1]
    pair = np.asarray(a, dtype=np.intp) * m + np.asarray(b, dtype=np.intp)
    cell = (pair[None, :] + (m * m) * np.arange(k)[:, None]).ravel()
    return StyleDesign(np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp), cell,
                       np.ascontiguousarray(np.asarray(feats, dtype=np.float64).T),
                       np.asarray(y, dtype=np.float64), m)  # fmt: skip


def _loss(eta: NDArray, y: NDArray, w: NDArray | None) -> float:
    """Summed log loss: log(1 + e^eta) - y eta per battle.

    log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|), in place: np.logaddexp(0, eta) is the
    same formula, about 6x slower per call here (its loop is not vectorised)."""
    per_battle = np.abs(eta)
    np.negative(per_battle, out=per_battle)
    np.exp(per_battle, out=per_battle)
    np.log1p(per_battle, out=per_battle)
    per_battle += np.maximum(eta, 0.0)
    per_battle -= y * eta
    return float(per_battle.sum() if w is None else w @ per_battle)


def fit_style_bt(
    design: StyleDesign,
    *,
    weights: NDArray[np.float64] | None = None,
    init: NDArray[np.float64] | None = None,
    alpha: float = math.log(10.0),
    reg: float = DEFAULT_REG,
    tol: float = 1e-10,
    max_iter: int = 50,
) -> tuple[NDArray[np.float64], bool]:
    """Minimise FastChat's contextual BT loss; returns (theta = [ratings, beta], converged).

    weights: multiplicity of each battle (bootstrap), default 1. Ratings are in log10 units
    (FastChat's, before 400 r + 1000). Each iteration computes the logits once: they give
    the loss of the last step (halved back if it rose: the loss is convex) and the next
    Newton step.
    """
    d = design
    m, k = d.n_models, d.features_t.shape[0]
    theta = np.zeros(m + k) if init is None else np.array(init, dtype=np.float64)
    eye = np.eye(m + k) * reg
    prev_theta, prev_value, step = theta, math.inf, np.zeros(m + k)
    t = 1.0
    for _ in range(max_iter):
        eta = alpha * (theta[d.a] - theta[d.b])
        eta += theta[m:] @ d.features_t
        value = _loss(eta, d.y, weights) + 0.5 * reg * theta @ theta
        if value > prev_value + 1e-12 * (1.0 + abs(prev_value)):
            t /= 2.0  # the full step overshot: go back and take half of it
            theta = prev_theta + t * step
            if t < 1e-9:
                return prev_theta, False
            continue
        if np.abs(t * step).max() < tol and math.isfinite(prev_value):
            return theta, True
        p = expit(eta)
        resid = d.y - p
        s = p * (1.0 - p)
        if weights is not None:
            resid *= weights
            s *= weights
        grad = -reg * theta
        grad[:m] += alpha * (np.bincount(d.a, resid, m) - np.bincount(d.b, resid, m))
        grad[m:] += d.features_t @ resid
        hess = eye.copy()
        pair_s = np.bincount(d.cell[: d.a.size], s, m * m).reshape(m, m)
        pair_s = pair_s + pair_s.T
        hess[:m, :m] += alpha**2 * (np.diag(pair_s.sum(axis=1)) - pair_s)
        sf_t = d.features_t * s  # (k, n)
        by_pair = np.bincount(d.cell, sf_t.ravel(), k * m * m).reshape(k, m, m)
        cross = (by_pair.sum(axis=2) - by_pair.sum(axis=1)).T  # (M, k): as a minus as b
        hess[:m, m:] += alpha * cross
        hess[m:, :m] += alpha * cross.T
        hess[m:, m:] += sf_t @ d.features_t.T
        step = np.linalg.solve(hess, grad)
        if np.abs(step).max() < tol:  # a Newton step this small near the optimum is safe
            return theta + step, True
        prev_theta, prev_value, t = theta, value, 1.0
        theta = theta + step
    return theta, False


def _bootstrap(
    design: StyleDesign, theta: NDArray[np.float64], *, rounds: int, reg: float, seed: SeedLike
) -> tuple[NDArray[np.float64], bool]:
    """(rounds, M + k) fits on battles resampled with replacement, each warm-started at theta,
    and whether every one converged."""
    n = design.a.size
    rng = as_generator(seed)
    boot = np.empty((rounds, theta.size))
    converged = True
    for r in range(rounds):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        boot[r], ok = fit_style_bt(design, weights=w, init=theta, reg=reg, tol=BOOT_TOL)
        converged = converged and ok
    return boot, converged


def style_controlled_leaderboard(
    model_a: ArrayLike,
    model_b: ArrayLike,
    outcome: ArrayLike,
    style_a: ArrayLike,
    style_b: ArrayLike,
    model_names: list[str] | tuple[str, ...],
    *,
    rounds: int = DEFAULT_STYLE_ROUNDS,
    level: float = DEFAULT_LEVEL,
    reg: float = DEFAULT_REG,
    scale: float = 400.0,
    init_rating: float = 1000.0,
    anchor: tuple[str, float] | None = None,
    feature_names: tuple[str, ...] = STYLE_FEATURES,
    seed: SeedLike = None,
) -> StyleControlledLeaderboard:
    """FastChat's style-controlled BT with battle-resampling bootstrap intervals.

    model_a, model_b: (n,) indices into model_names; outcome: (n,) 1 a wins, 0 tie, -1 b
    wins; style_a, style_b: (n, k) raw counts per side in feature_names order (tokens,
    headers, lists, bold). anchor: (model, rating) shifts that model to `rating` (FastChat
    anchors mixtral-8x7b-instruct-v0.1 at 1114 when present); default mean = init_rating.
    """
    level = check_level(level)
    rounds = check_rounds(rounds, allow_zero=True)
    names = tuple(str(n) for n in model_names)
    m = len(names)
    a = np.asarray(model_a, dtype=np.intp)
    b = np.asarray(model_b, dtype=np.intp)
    o = np.asarray(outcome)
    if a.ndim != 1 or a.shape != b.shape or a.shape != o.shape or a.size == 0:
        raise ValueError("model_a, model_b and outcome must be aligned, non-empty 1-d arrays")
    if m < 2 or a.min() < 0 or max(a.max(), b.max()) >= m or b.min() < 0:
        raise ValueError("model indices must lie in [0, len(model_names)), with 2+ models")
    if np.any(a == b):
        raise ValueError("a model cannot battle itself (model_a == model_b)")
    if not np.isin(o, (-1, 0, 1)).all():
        raise ValueError("outcome must hold -1, 0 or 1")
    feats, mean, std = style_design(style_a, style_b)
    if feats.shape[0] != a.size or feats.shape[1] != len(feature_names):
        raise ValueError("style arrays must be (n battles, len(feature_names))")
    y = (o.astype(np.float64) + 1.0) / 2.0
    design = style_design_matrix(a, b, feats, y, m)
    # The BLAS calls are small (k, n) products: more BLAS threads only spin between them and
    # take the cores the elementwise passes need (a bootstrap ran 10x slower on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        theta, converged = fit_style_bt(design, reg=reg)
        boot, boot_converged = _bootstrap(design, theta, rounds=rounds, reg=reg, seed=seed)
    converged = converged and boot_converged
    if anchor is not None:
        if anchor[0] not in names:
            raise ValueError(f"anchor model {anchor[0]!r} is not in model_names")
        anchor_index = names.index(anchor[0])

    def to_scale(ratings: NDArray[np.float64]) -> NDArray[np.float64]:
        scaled = ratings * scale + init_rating
        if anchor is not None:
            scaled = scaled + (anchor[1] - scaled[..., [anchor_index]])
        return scaled

    ratings = to_scale(theta[:m])
    coefs = theta[m:].copy()
    if rounds:
        boot_ratings, boot_coefs = to_scale(boot[:, :m]), boot[:, m:]
        lower, upper = percentile_bounds(boot_ratings, level)
        coef_lower, coef_upper = percentile_bounds(boot_coefs, level)
    else:
        boot_ratings, boot_coefs = np.empty((0, m)), np.empty((0, feats.shape[1]))
        lower, upper = ratings.copy(), ratings.copy()
        coef_lower, coef_upper = coefs.copy(), coefs.copy()
    return StyleControlledLeaderboard(
        models=names,
        ratings=ratings,
        lower=lower,
        upper=upper,
        rank=rank_by_intervals(lower, upper),
        coefficients=coefs,
        coefficient_lower=coef_lower,
        coefficient_upper=coef_upper,
        feature_names=tuple(feature_names),
        feature_mean=mean,
        feature_std=std,
        bootstrap_ratings=boot_ratings,
        bootstrap_coefficients=boot_coefs,
        n_battles=int(a.size),
        reg=reg,
        scale=scale,
        init_rating=init_rating,
        level=level,
        rounds=rounds,
        converged=converged,
    )
