"""AlpacaEval's instruction difficulty: the joint L1 logistic fit over every model.

Follows alpaca-eval's notebooks/instruction_difficulty.ipynb (see evalhub.stats.alpaca_lc for
the objective, penalty, C grid and folds): per-model length slopes a_m, per-model intercepts
b_m, a per-prompt term d_p (the first prompt fixed at 0) and one shared column c,

    logit p_i = a_m * tanh(delta_i / sd_m) + b_m + d_p + c,

every coefficient under the L1 penalty. The per-prompt terms are the difficulty.

Solver: orthant-wise Newton with the exact Hessian. Each step solves the Newton system on
the coefficients that are nonzero or leave zero, in the orthant they move into, and projects
back (a coefficient that would cross zero stops there). The prompt block's Hessian is
diagonal, so it is eliminated (a Schur complement of size 2M + 1): a step costs O(n + M^2 P).
Moving every intercept against the shared column leaves the logits unchanged, so the step is
taken orthogonal to that line and an exact median search places the coefficients along it.
The five CV folds are fitted together as one batch, warm-started along the C path.

Why not the scipy L-BFGS-B fit on the split w = u - v it replaces (kept as
evalhub.stats.alpaca_lc.instruction_difficulty, the reference in the tests): 22 models x 805
prompts took 41 s on a quiet machine, and it stops a few 1e-6 short of the optimum. This one
meets the optimality conditions to ~1e-11 in a few Newton steps per C: ~1 s for 22 x 805 and
~11 s of CPU for 200 x 805 (bench/lc_vs_alpaca_eval.py prints the figures). scikit-learn's
liblinear (what alpaca-eval's notebook uses) solves the same problem and agrees to 1e-10 when
run to convergence, but at its default tolerance it stops ~1e-4 short, and fits one fold at a
time (about 100 s for 22 x 805 on a busy machine).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit
from threadpoolctl import threadpool_limits

from evalhub.stats.alpaca_lc import (
    _LOG_CLIP,
    CS,
    MIN_MODELS_FOR_DIFFICULTY,
    N_SPLITS,
    _check,
    _loss_and_probability,
    group_folds,
)


class _Design:
    """The joint design for B problems sharing rows (they differ in row weights only).

    Coefficients are laid out as [a_1..a_M, b_1..b_M, c | d_1..d_P]: the model block G
    (K = 2M + 1) then the prompt block Q, whose Hessian is diagonal."""

    def __init__(
        self, t: NDArray[np.float64], model: NDArray[np.intp], prompt: NDArray[np.intp],
        n_models: int, n_prompts: int, batch: int,
    ) -> None:  # fmt: skip
        self.t, self.model, self.prompt = t, model, prompt
        self.m, self.p, self.b = n_models, n_prompts, batch
        self.k = 2 * n_models + 1
        shift = np.arange(batch)[:, None]
        self._by_model = (model[None, :] + n_models * shift).ravel()
        self._by_prompt = (prompt[None, :] + n_prompts * shift).ravel()
        cell = model * n_prompts + prompt
        self._by_cell = (cell[None, :] + n_models * n_prompts * shift).ravel()

    def _sum(self, index: NDArray, v: NDArray, size: int) -> NDArray[np.float64]:
        return np.bincount(index, v.ravel(), self.b * size).reshape(self.b, size)

    def logits(self, w: NDArray[np.float64]) -> NDArray[np.float64]:
        m, k = self.m, self.k
        a, b, c, d = w[:, :m], w[:, m : 2 * m], w[:, 2 * m], w[:, k:]
        return a[:, self.model] * self.t + b[:, self.model] + d[:, self.prompt] + c[:, None]

    def gradient(self, gz: NDArray[np.float64]) -> NDArray[np.float64]:
        """X^T gz per problem: (B, K + P)."""
        m, p = self.m, self.p
        return np.concatenate(
            [self._sum(self._by_model, gz * self.t, m), self._sum(self._by_model, gz, m),
             gz.sum(1)[:, None], self._sum(self._by_prompt, gz, p)], axis=1,
        )  # fmt: skip

    def hessian(self, hz: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
        """X^T diag(hz) X per problem as (H_GG (B,K,K), H_GQ (B,K,P), diag H_QQ (B,P))."""
        m, p, k, b = self.m, self.p, self.k, self.b
        htt = self._sum(self._by_model, hz * self.t * self.t, m)
        ht = self._sum(self._by_model, hz * self.t, m)
        h1 = self._sum(self._by_model, hz, m)
        gg = np.zeros((b, k, k))
        diag = np.arange(m)
        gg[:, diag, diag], gg[:, m + diag, m + diag] = htt, h1
        gg[:, diag, m + diag] = gg[:, m + diag, diag] = ht
        gg[:, diag, 2 * m] = gg[:, 2 * m, diag] = ht
        gg[:, m + diag, 2 * m] = gg[:, 2 * m, m + diag] = h1
        gg[:, 2 * m, 2 * m] = hz.sum(1)
        qq = self._sum(self._by_prompt, hz, p)
        gq = np.empty((b, k, p))
        gq[:, :m] = self._sum(self._by_cell, hz * self.t, m * p).reshape(b, m, p)
        gq[:, m : 2 * m] = self._sum(self._by_cell, hz, m * p).reshape(b, m, p)
        gq[:, 2 * m] = qq
        return gg, gq, qq


def _shared_shift(x: _Design, w: NDArray[np.float64]) -> NDArray[np.float64]:
    """w moved exactly to the L1 minimum along b_m - s (every model), c + s: the logits do
    not change, so only the penalty sum_m |b_m - s| + |c + s| does (a median in s)."""
    m = x.m
    points = np.sort(np.concatenate([w[:, m : 2 * m], -w[:, 2 * m : 2 * m + 1]], axis=1), axis=1)
    lo, hi = points[:, (m + 1 - 1) // 2], points[:, (m + 1) // 2]
    s = np.clip(0.0, lo, hi)  # any point between the middle two is a minimum: move least
    moved = w.copy()
    moved[:, m : 2 * m] -= s[:, None]
    moved[:, 2 * m] += s
    return moved


def _orthant_newton_step(
    x: _Design, w: NDArray, grad: NDArray, hz: NDArray, fixed: NDArray[np.bool_]
) -> tuple[NDArray, NDArray]:
    """The Newton step of ||w||_1 + loss restricted to the orthant it moves into.

    Free: nonzero coefficients, and zero ones whose loss slope exceeds the penalty (they
    leave zero against it); `fixed` ones (the first prompt) never move. Returns (step,
    pseudo-gradient), the latter the minimum-norm subgradient. The prompt block is
    eliminated through its diagonal Hessian (a Schur complement of size K), so a step costs
    O(n + K^2 P) instead of a dense (K + P)^3 solve."""
    orthant = np.where(w != 0, np.sign(w), -np.sign(grad) * (np.abs(grad) > 1.0))
    orthant[:, fixed] = 0.0
    pseudo = np.where(w != 0, grad + np.sign(w), grad - np.clip(grad, -1.0, 1.0))
    pseudo[:, fixed] = 0.0
    free = orthant != 0
    gg, gq, qq = x.hessian(hz)
    step = _newton_solve(x, (gg, gq, qq), np.where(free, -(grad + orthant), 0.0), free)
    for _ in range(10):
        # A zero coefficient the step would move against its orthant stays at zero.
        wrong = free & (w == 0) & (np.sign(step) != orthant)
        if not wrong.any():
            break
        free &= ~wrong
        step = _newton_solve(x, (gg, gq, qq), np.where(free, -(grad + orthant), 0.0), free)
    return step, pseudo


def _newton_solve(
    x: _Design, hessian: tuple[NDArray, NDArray, NDArray], rhs: NDArray, free: NDArray
) -> NDArray[np.float64]:
    """H_FF^-1 rhs_F on the free coefficients (0 elsewhere), the prompt block eliminated."""
    k = x.k
    gg, gq, qq = hessian
    fg, fq = free[:, :k], free[:, k:]
    inv_q = np.where(fq & (qq > 0), 1.0 / np.where(qq > 0, qq, 1.0), 0.0)
    gq = gq * fg[:, :, None]
    scaled = gq * inv_q[:, None, :]
    schur = gg - np.stack([scaled[i] @ gq[i].T for i in range(x.b)])  # BLAS per problem
    keep = fg[:, :, None] & fg[:, None, :]
    schur = np.where(keep, schur, 0.0)
    schur = schur + np.eye(k)[None] * (~fg)[:, :, None]
    rhs_g = rhs[:, :k] - np.einsum("bkp,bp->bk", gq, inv_q * rhs[:, k:])
    # Moving every intercept against the shared column leaves the logits unchanged: where
    # all of them are free the Hessian is singular along that line. The step is then taken
    # orthogonal to it (a bordered system: the least-norm Newton step), and _shared_shift
    # moves along it, where only the penalty changes.
    m = x.m
    singular = fg[:, m : 2 * m + 1].all(1)
    border = np.zeros((x.b, k))
    border[:, m : 2 * m], border[:, 2 * m] = -1.0, 1.0
    border *= singular[:, None]
    system = np.zeros((x.b, k + 1, k + 1))
    system[:, :k, :k] = schur
    system[:, :k, k] = system[:, k, :k] = border
    system[:, k, k] = ~singular
    scale = np.abs(np.diagonal(schur, axis1=1, axis2=2)).max(1)
    system[:, :k, :k] += np.eye(k)[None] * (1e-13 * scale + 1e-300)[:, None, None]
    rhs_b = np.concatenate([rhs_g, np.zeros((x.b, 1))], axis=1)
    step_g = np.linalg.solve(system, rhs_b[:, :, None])[:, :k, 0] * fg
    step_q = inv_q * (rhs[:, k:] - np.einsum("bkp,bk->bp", gq, step_g))
    return np.concatenate([step_g, step_q], axis=1)


def joint_l1_fit(
    x: _Design, p: NDArray[np.float64], cw: NDArray[np.float64],
    start: NDArray[np.float64] | None = None, *, max_iter: int = 200, tol: float = 1e-14,
) -> NDArray[np.float64]:  # fmt: skip
    """Minimise ||w||_1 + sum_i cw_bi * soft_loss(z_bi, p_i) for each of B problems.

    cw: (B, n) C times each row's weight (0 leaves a row out). Returns w (B, K + P) laid out
    as in _Design, the first prompt's term 0. Orthant-wise Newton: an exact Newton step in
    the orthant the coefficients move into, projected back onto it (a coefficient that would
    cross zero stops at zero), with an Armijo backtracking line search. A problem stops when
    the predicted decrease falls below tol relative to its objective."""
    fixed = np.zeros(x.k + x.p, dtype=bool)
    fixed[x.k] = True  # the first prompt's term
    w = np.zeros((x.b, x.k + x.p)) if start is None else start.copy()

    def objective(v: NDArray) -> tuple[NDArray, NDArray]:
        loss, q = _loss_and_probability(x.logits(v), p)
        return np.abs(v).sum(1) + (cw * loss).sum(1), q

    current, q = objective(w)
    active = np.ones(x.b, dtype=bool)
    for _ in range(max_iter):
        grad = x.gradient(cw * (q - p))
        step, pseudo = _orthant_newton_step(x, w, grad, cw * q * (1.0 - q), fixed)
        orthant = np.where(w != 0, np.sign(w), -np.sign(pseudo))
        step = np.where(np.sign(step) == orthant, step, np.where(w != 0, step, 0.0))
        step[~active] = 0.0
        size = np.ones(x.b)
        for _halving in range(50):
            moved = w + size[:, None] * step
            moved = np.where(np.sign(moved) == orthant, moved, 0.0)  # stop at zero
            trial, q_trial = objective(moved)
            bad = active & (trial > current + 1e-4 * (pseudo * (moved - w)).sum(1)
                            + 1e-15 * np.abs(current))  # fmt: skip
            if not bad.any():
                break
            size = np.where(bad, size / 2, size)
        predicted = -(pseudo * step).sum(1)
        improved = active & ~bad
        w = _shared_shift(x, np.where(improved[:, None], moved, w))
        current = np.where(improved, np.abs(w).sum(1) + trial - np.abs(moved).sum(1), current)
        q = np.where(improved[:, None], q_trial, q)
        active &= improved & (predicted > tol * (1.0 + np.abs(current)))
        if not active.any():
            break
    return w


def instruction_difficulty(
    preference: ArrayLike, length_diff: ArrayLike, model_ids: ArrayLike, prompt_ids: ArrayLike
) -> tuple[NDArray, NDArray[np.float64]]:
    """Per-prompt difficulty from the joint fit over every model (see module docstring).

    Returns (prompt labels sorted, difficulty per label); the first label's difficulty is 0.
    Length is standardised per model as in the per-model fit. Raises when fewer than
    MIN_MODELS_FOR_DIFFICULTY models are given.
    """
    p, diff = _check(preference, length_diff)
    models = np.asarray(model_ids)
    prompts = np.asarray(prompt_ids)
    if models.shape != p.shape or prompts.shape != p.shape:
        raise ValueError("model_ids and prompt_ids must be aligned with preference")
    names, model = np.unique(models, return_inverse=True)
    prompt_names, prompt = np.unique(prompts, return_inverse=True)
    model, prompt = model.reshape(-1), prompt.reshape(-1)
    if names.size < MIN_MODELS_FOR_DIFFICULTY:
        raise ValueError(
            f"instruction difficulty needs {MIN_MODELS_FOR_DIFFICULTY} models, got {names.size}"
        )
    delta = -diff
    sd = np.array([np.std(delta[model == j], ddof=1) for j in range(names.size)])
    t = np.tanh(np.divide(delta, sd[model], out=np.zeros_like(delta), where=sd[model] > 0))
    # Small dense solves: BLAS threads only contend (much slower on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return prompt_names, _cross_validated_difficulty(p, t, model, prompt, names.size,
                                                         prompt_names.size)  # fmt: skip


def _cross_validated_difficulty(
    p: NDArray, t: NDArray, model: NDArray, prompt: NDArray, n_models: int, n_prompts: int
) -> NDArray[np.float64]:
    """The C chosen by 5-fold CV (folds fitted together, warm along the C path), then the
    per-prompt terms of the fit on every row with it."""
    folds = group_folds(p.size)
    test = folds[None, :] == np.arange(N_SPLITS)[:, None]  # (folds, n)
    cv = _Design(t, model, prompt, n_models, n_prompts, N_SPLITS)
    scores = np.zeros(CS.size)
    fitted = None
    for ci, c in enumerate(CS):
        fitted = joint_l1_fit(cv, p, c * (~test), fitted)
        q = np.clip(expit(cv.logits(fitted)), _LOG_CLIP, 1 - _LOG_CLIP)
        loss = -(p * np.log(q) + (1 - p) * np.log(1 - q))
        scores[ci] = -((loss * test).sum(1) / test.sum(1)).sum()
    best = float(CS[int(np.argmax(scores))])
    whole = _Design(t, model, prompt, n_models, n_prompts, 1)
    w = joint_l1_fit(whole, p, np.full((1, p.size), best))
    return w[0, whole.k :].copy()
