"""AlpacaEval 2's length-controlled (LC) win rate, fitted the way the alpaca-eval package fits it.

Per model (judged against one baseline), a logistic GLM of the soft preference p_i = P(model
better) on three features, with no separate intercept column:

    logit p_i = phi * tanh(delta_i / sd(delta)) + psi * difficulty_i + theta * 1

delta_i = len(baseline) - len(model) in characters (AlpacaEval's sign: `std_delta_len`),
sd is the sample standard deviation (ddof=1) over the model's rows, difficulty_i is the
instruction difficulty of prompt i. The coefficients minimise

    ||w||_1 + C * sum_i [ p_i * log(1 + e^-z_i) + (1 - p_i) * log(1 + e^z_i) ]

(liblinear's L1 logistic objective on the package's duplicated 0/1 rows weighted p and 1-p),
with C chosen from logspace(-4, 4, 10) by 5-fold grouped cross-validation on the mean soft log
loss (the first C with the best summed fold score), then refitted on every row with that C.
Folds follow scikit-learn's GroupKFold for equal-sized groups (greedy, lightest fold first).
LC = mean_i sigmoid(psi * difficulty_i + theta): the predicted preference with no length
difference.

Formulas, named as in alpaca-eval's GLM_INFO:
- "length_controlled_v1": the three features above. alpaca-eval also adds rows from two
  "gamed" baselines downloaded from its own data set (weight 0.2); EvalHub has no such rows,
  so its v1 fit is the package's fit on the same features with those rows absent.
- "length_controlled_minimal": tanh(delta/sd) + 1 (no difficulty term), for when fewer than
  MIN_MODELS_FOR_DIFFICULTY models share the baseline, prompt set and judge.

Instruction difficulty (the per-prompt term of one joint fit over every model, after
alpaca-eval's notebooks/instruction_difficulty.ipynb) is fitted in
evalhub.stats.instruction_difficulty, as a shared fit (evalhub.fits).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

FORMULA_V1 = "length_controlled_v1"
FORMULA_MINIMAL = "length_controlled_minimal"
MIN_MODELS_FOR_DIFFICULTY = 3
CS = np.logspace(-4, 4, 10)  # LogisticRegressionCV's default Cs=10 grid
N_SPLITS = 5
_LOG_CLIP = 1e-15  # alpaca-eval's logloss clips predictions here


def group_folds(n_rows: int, n_splits: int = N_SPLITS) -> NDArray[np.intp]:
    """Test-fold index per row, as GroupKFold assigns one group per row (all of size 2)."""
    if n_rows < n_splits:
        raise ValueError(f"need at least {n_splits} judged rows per model, got {n_rows}")
    sizes = np.full(n_rows, 2)
    order = np.argsort(sizes)[::-1]  # the same tie order GroupKFold gets from numpy
    folds = np.empty(n_rows, dtype=np.intp)
    folds[order] = np.arange(n_rows) % n_splits  # equal weights: greedy == round robin
    return folds


def _loss_and_probability(
    z: NDArray[np.float64], p: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per row: p * log(1 + e^-z) + (1 - p) * log(1 + e^z), and sigmoid(z), from one exp."""
    e = np.exp(-np.abs(z))
    loss = np.maximum(z, 0.0) + np.log1p(e) - p * z
    inv = 1.0 / (1.0 + e)
    return loss, np.where(z >= 0, inv, e * inv)


def _logits(x: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """x: (B, k, n) columns, w: (B, k) -> (B, n)."""
    return np.matmul(w[:, None, :], x)[:, 0, :]


def _evaluate(
    x: NDArray[np.float64], p: NDArray[np.float64], cw: NDArray[np.float64], coef: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(objective per problem, sigmoid of the logits) at coef."""
    loss, q = _loss_and_probability(_logits(x, coef), p)
    return np.abs(coef).sum(1) + (cw * loss).sum(1), q


def column_products(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """(B, k(k+1)/2, n) products of feature column pairs j <= m: the Hessian's ingredients."""
    k = x.shape[1]
    return np.stack([x[:, j, :] * x[:, m, :] for j in range(k) for m in range(j, k)], axis=1)


def l1_soft_logistic(
    x: NDArray[np.float64],
    p: NDArray[np.float64],
    weight: NDArray[np.float64],
    c: NDArray[np.float64],
    start: NDArray[np.float64] | None = None,
    *,
    products: NDArray[np.float64] | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> NDArray[np.float64]:
    """Batched minimiser of ||w||_1 + C * sum_i weight_i * soft_loss(x_i . w, p_i).

    x: (B, k, n) feature columns; p, weight: (B, n); c: (B,); products: column_products(x)
    when the caller already has it. Returns (B, k). Proximal Newton: each step minimises the
    L1 term plus the quadratic model of the loss exactly (k is small), then halves the step
    until the objective drops enough. A problem stops when its predicted decrease falls below
    tol relative to its objective.
    """
    b, k, _ = x.shape
    w = np.zeros((b, k)) if start is None else start.copy()
    cw = c[:, None] * weight
    pairs = [(j, m) for j in range(k) for m in range(j, k)]
    xx = column_products(x) if products is None else products
    current, q_all = _evaluate(x, p, cw, w)
    idx = np.arange(b)
    for _ in range(max_iter):
        if idx.size == 0:
            break
        whole = idx.size == b  # views, not copies, while every problem is still running
        xa = x if whole else x[idx]
        xxa = xx if whole else xx[idx]
        pa = p if whole else p[idx]
        cwa = cw if whole else cw[idx]
        q = q_all if whole else q_all[idx]
        wa = w[idx]
        grad = np.matmul(xa, (cwa * (q - pa))[:, :, None])[:, :, 0]
        flat = np.matmul(xxa, (cwa * q * (1 - q))[:, :, None])[:, :, 0]
        hess = np.empty((idx.size, k, k))
        for col, (j, m) in enumerate(pairs):
            hess[:, j, m] = hess[:, m, j] = flat[:, col]
        d = _l1_newton_direction(grad, hess, wa)
        decrease = (grad * d).sum(1) + np.abs(wa + d).sum(1) - np.abs(wa).sum(1)
        base = current[idx]
        step = np.ones(idx.size)
        trial, q_trial = _evaluate(xa, pa, cwa, wa + d)
        for _halving in range(30):
            bad = np.flatnonzero(trial > base + 1e-4 * step * decrease + 1e-13 * np.abs(base))
            if not bad.size:
                break
            step[bad] *= 0.5
            moved_to = wa[bad] + step[bad, None] * d[bad]
            trial[bad], q_trial[bad] = _evaluate(xa[bad], pa[bad], cwa[bad], moved_to)
        w[idx] = wa + step[:, None] * d
        current[idx] = trial
        if whole:
            q_all = q_trial
        else:
            q_all[idx] = q_trial
        idx = idx[-decrease > tol * (1.0 + np.abs(base))]
    return w


def _pattern_step(
    grad: NDArray[np.float64], h: NDArray[np.float64], w: NDArray[np.float64], sign: NDArray
) -> NDArray[np.float64]:
    """The quadratic model's minimiser with u = w + d held to one sign pattern (0: u_j = 0)."""
    free, fixed = np.flatnonzero(sign), np.flatnonzero(sign == 0)
    d = np.zeros_like(w)
    d[:, fixed] = -w[:, fixed]
    if free.size:
        rhs = (
            -(grad[:, free] + sign[free])
            - np.matmul(h[:, free][:, :, fixed], d[:, fixed, None])[:, :, 0]
        )
        d[:, free] = np.linalg.solve(h[:, free][:, :, free], rhs[:, :, None])[:, :, 0]
    return d


def _l1_newton_direction(
    grad: NDArray[np.float64], hess: NDArray[np.float64], w: NDArray[np.float64]
) -> NDArray[np.float64]:
    """argmin_d grad.d + d.H.d / 2 + ||w + d||_1, exactly, for a batch of small k.

    First the sign pattern of w is tried and kept where it meets the optimality conditions
    (signs hold; |slope| <= 1 on zero coordinates), which is most problems after a step or
    two. The rest try every sign pattern of u = w + d (3^k of them): on a pattern the problem
    is a linear solve; the best sign-consistent candidate is the minimum (the problem is
    convex). Exact solves matter here: coordinate descent crawls when tanh(length) and the
    intercept are nearly collinear.
    """
    b, k = w.shape
    scale = np.diagonal(hess, axis1=1, axis2=2).max(1)
    h = hess + (1e-9 * scale + 1e-12)[:, None, None] * np.eye(k)  # keeps solves regular
    best_d = np.zeros_like(w)
    settled = np.zeros(b, dtype=bool)
    signs = np.sign(w)
    codes = ((signs + 1) * 3 ** np.arange(k)).sum(1)
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        sign = signs[rows[0]]
        d = _pattern_step(grad[rows], h[rows], w[rows], sign)
        u = w[rows] + d
        slope = grad[rows] + np.matmul(hess[rows], d[:, :, None])[:, :, 0]
        zero = sign == 0
        ok = np.all(u[:, ~zero] * sign[~zero] >= 0, axis=1) & np.all(
            np.abs(slope[:, zero]) <= 1 + 1e-9, axis=1
        )
        best_d[rows[ok]], settled[rows[ok]] = d[ok], True
    rest = np.flatnonzero(~settled)
    if rest.size == 0:
        return best_d
    g, hr, wr, hs = grad[rest], h[rest], w[rest], hess[rest]
    best_q = np.full(rest.size, np.inf)
    found = np.zeros_like(wr)
    for pattern in itertools.product((-1.0, 0.0, 1.0), repeat=k):
        sign = np.array(pattern)
        free = np.flatnonzero(sign)
        d = _pattern_step(g, hr, wr, sign)
        u = wr + d
        ok = np.all(u[:, free] * sign[free] >= 0, axis=1)
        q = (g * d).sum(1) + 0.5 * np.einsum("bk,bkl,bl->b", d, hs, d) + np.abs(u).sum(1)
        better = ok & (q < best_q)
        best_q[better], found[better] = q[better], d[better]
    best_d[rest] = found
    return best_d


@dataclass(frozen=True, slots=True)
class LengthControlledFit:
    """LC win rates for models against one baseline (index-aligned with `models`).

    formula: FORMULA_V1 or FORMULA_MINIMAL. win_rate: mean preference (AlpacaEval's
    `win_rate`, 0..1). length_controlled: LC (0..1). c: the chosen inverse penalty.
    coefficients: (M, 3) length slope (AlpacaEval sign: delta = baseline - model),
    difficulty slope (0 under the minimal formula) and intercept.
    """

    models: tuple[str, ...]
    formula: str
    n: NDArray[np.int64]
    win_rate: NDArray[np.float64]
    length_controlled: NDArray[np.float64]
    c: NDArray[np.float64]
    coefficients: NDArray[np.float64]
    extreme_change: NDArray[np.bool_]


def is_extreme_change(raw: ArrayLike, lc: ArrayLike) -> NDArray[np.bool_]:
    """alpaca-eval's warning that the GLM may have failed: LC (0..1) moved from the raw win
    rate by more than 10 points and more than a quarter of the room on that side. It fires
    when length is (nearly) the same sign on every row, so tanh(length) and the intercept
    cannot be told apart and the LC is not identified."""
    old, new = 100 * np.asarray(raw, dtype=float), 100 * np.asarray(lc, dtype=float)
    too_small = new < np.minimum(old - old / 4, old - 10)
    too_large = new > np.maximum(old + (100 - old) / 4, old + 10)
    return too_small | too_large


def _check(preference: ArrayLike, length_diff: ArrayLike) -> tuple[NDArray, NDArray]:
    p = np.asarray(preference, dtype=np.float64)
    d = np.asarray(length_diff, dtype=np.float64)
    if p.shape != d.shape or p.ndim != 1:
        raise ValueError("preference and length_diff must be aligned 1-d arrays")
    bad = np.flatnonzero(~np.isfinite(p) | (p < 0) | (p > 1))
    if bad.size:
        raise ValueError(f"preference row {bad[0]} is {p[bad[0]]}: must be in [0, 1]")
    bad = np.flatnonzero(~np.isfinite(d))
    if bad.size:
        raise ValueError(f"length_diff row {bad[0]} is not finite")
    return p, d


def length_controlled_fit(
    preference: ArrayLike,
    length_diff: ArrayLike,
    model_ids: ArrayLike,
    difficulty: ArrayLike | None = None,
) -> LengthControlledFit:
    """Fit AlpacaEval's LC GLM separately for each model (see module docstring).

    preference: (n,) P(model better than baseline) per judged row, ties 0.5; length_diff:
    (n,) len(model) - len(baseline) in characters; model_ids: (n,) labels; difficulty: (n,)
    instruction difficulty of each row's prompt (None: the minimal formula).
    All models are fitted together in one batch, which is what makes 200 models fast.
    """
    p, diff = _check(preference, length_diff)
    labels = np.asarray(model_ids)
    if labels.shape != p.shape:
        raise ValueError("model_ids must be aligned with preference")
    hard = None if difficulty is None else np.asarray(difficulty, dtype=np.float64)
    if hard is not None and (hard.shape != p.shape or not np.all(np.isfinite(hard))):
        raise ValueError("difficulty must be finite and aligned with preference")
    names, model = np.unique(labels, return_inverse=True)
    model = model.reshape(-1)
    m = names.size
    counts = np.bincount(model, minlength=m)
    width = int(counts.max()) if m else 0
    # Rows of model j sit at [j, 0:counts[j]] in padded (M, width) arrays; padding has weight 0.
    order = np.argsort(model, kind="stable")
    slot = np.arange(p.size) - np.repeat(np.cumsum(counts) - counts, counts)
    rows, cols = model[order], slot
    present = np.zeros((m, width), dtype=bool)
    present[rows, cols] = True
    pp = np.zeros((m, width))
    pp[rows, cols] = p[order]
    delta = np.zeros((m, width))
    delta[rows, cols] = -diff[order]  # AlpacaEval's len(baseline) - len(model)
    sd = np.array([np.std(delta[j, : counts[j]], ddof=1) if counts[j] > 1 else 0.0
                   for j in range(m)])  # fmt: skip
    scaled = np.divide(delta, sd[:, None], out=np.zeros_like(delta), where=sd[:, None] > 0)
    # Columns: tanh(length), [difficulty,] intercept.
    x = np.zeros((m, 2 if hard is None else 3, width))
    x[:, 0, :] = np.tanh(scaled)
    if hard is not None:
        x[rows, 1, cols] = hard[order]
    x[:, -1, :] = present

    folds = np.full((m, width), -1)
    for j in range(m):
        folds[j, : counts[j]] = group_folds(int(counts[j]))
    # CV: every (model, fold) pair is one problem; walk C upwards, warm-starting each step.
    xb = np.repeat(x, N_SPLITS, axis=0)
    pb = np.repeat(pp, N_SPLITS, axis=0)
    fold_of = np.tile(np.arange(N_SPLITS), m)
    test = np.repeat(folds, N_SPLITS, axis=0) == fold_of[:, None]
    train = np.repeat(present, N_SPLITS, axis=0) & ~test
    # Each problem's test rows gathered to the front (padded, masked): scoring reads only them.
    test_n = test.sum(1)
    test_pos = np.argsort(~test, axis=1, kind="stable")[:, : int(test_n.max())]
    test_mask = np.arange(test_pos.shape[1])[None, :] < test_n[:, None]
    x_test = np.take_along_axis(xb, test_pos[:, None, :], axis=2)
    p_test = np.take_along_axis(pb, test_pos, axis=1)
    scores = np.zeros((m, CS.size))
    coef = None
    products = column_products(xb)
    for ci, c in enumerate(CS):
        coef = l1_soft_logistic(
            xb, pb, train.astype(float), np.full(m * N_SPLITS, c), coef, products=products
        )
        q = np.clip(expit(_logits(x_test, coef)), _LOG_CLIP, 1 - _LOG_CLIP)
        loss = -(p_test * np.log(q) + (1 - p_test) * np.log(1 - q))
        mean_loss = (loss * test_mask).sum(1) / test_n
        scores[:, ci] = -mean_loss.reshape(m, N_SPLITS).sum(1)
    best = np.argmax(scores, axis=1)
    chosen = CS[best]
    final = l1_soft_logistic(x, pp, present.astype(float), chosen)
    no_length = expit(_logits(x[:, 1:, :], final[:, 1:]))
    if hard is None:  # report the difficulty slope as 0 so both formulas share a shape
        final = np.stack([final[:, 0], np.zeros(m), final[:, 1]], axis=1)
    lc = (no_length * present).sum(1) / counts
    raw = (pp * present).sum(1) / counts
    return LengthControlledFit(
        models=tuple(str(s) for s in names),
        formula=FORMULA_MINIMAL if hard is None else FORMULA_V1,
        n=counts.astype(np.int64),
        win_rate=raw,
        length_controlled=lc,
        c=chosen,
        coefficients=final,
        extreme_change=is_extreme_change(raw, lc),
    )
