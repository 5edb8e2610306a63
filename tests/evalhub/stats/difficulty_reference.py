"""The L-BFGS-B joint difficulty fit that EvalHub ran inside the results request before the
shared fits (issue 26), kept as a reference for evalhub.stats.instruction_difficulty's tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit

from evalhub.stats.alpaca_lc import (
    _LOG_CLIP,
    CS,
    MIN_MODELS_FOR_DIFFICULTY,
    N_SPLITS,
    _check,
    _loss_and_probability,
    group_folds,
)


def _joint_design(
    p: NDArray[np.float64],
    scaled_tanh: NDArray[np.float64],
    model: NDArray[np.intp],
    prompt: NDArray[np.intp],
    n_models: int,
    n_prompts: int,
) -> tuple[int, object]:
    """Objective pieces of the joint fit: params [slope_m..., bias_m..., prompt_1.., one]."""
    n_params = 2 * n_models + (n_prompts - 1) + 1

    def logits(w: NDArray[np.float64]) -> NDArray[np.float64]:
        prompt_term = np.concatenate([[0.0], w[2 * n_models : 2 * n_models + n_prompts - 1]])
        return w[model] * scaled_tanh + w[n_models + model] + prompt_term[prompt] + w[-1]

    def grad_of(resid: NDArray[np.float64]) -> NDArray[np.float64]:
        g = np.empty(n_params)
        g[:n_models] = np.bincount(model, weights=resid * scaled_tanh, minlength=n_models)
        g[n_models : 2 * n_models] = np.bincount(model, weights=resid, minlength=n_models)
        g[2 * n_models : -1] = np.bincount(prompt, weights=resid, minlength=n_prompts)[1:]
        g[-1] = resid.sum()
        return g

    return n_params, (logits, grad_of)


def _joint_l1_fit(
    p: NDArray[np.float64], weight: NDArray[np.float64], c: float, n_params: int, pieces: object,
    start: NDArray[np.float64] | None,
) -> NDArray[np.float64]:  # fmt: skip
    logits, grad_of = pieces  # type: ignore[misc]

    # L1 through the split w = u - v with u, v >= 0: smooth and bounded, so L-BFGS-B applies.
    def f(uv: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w = uv[:n_params] - uv[n_params:]
        z = logits(w)
        loss, q = _loss_and_probability(z, p)
        value = float(uv.sum() + c * np.sum(weight * loss))
        g = c * grad_of(weight * (q - p))
        return value, np.concatenate([1.0 + g, 1.0 - g])

    x0 = np.zeros(2 * n_params)
    if start is not None:
        x0[:n_params], x0[n_params:] = np.maximum(start, 0), np.maximum(-start, 0)
    bounds = [(0.0, None)] * (2 * n_params)
    result = minimize(f, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-9})  # fmt: skip
    return result.x[:n_params] - result.x[n_params:]


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
    scaled = np.tanh(np.divide(delta, sd[model], out=np.zeros_like(delta), where=sd[model] > 0))
    n_params, pieces = _joint_design(p, scaled, model, prompt, names.size, prompt_names.size)
    folds = group_folds(p.size)
    logits = pieces[0]  # type: ignore[index]
    scores = np.zeros(CS.size)
    starts: list[NDArray[np.float64] | None] = [None] * N_SPLITS
    for ci, c in enumerate(CS):
        for f in range(N_SPLITS):
            test = folds == f
            starts[f] = _joint_l1_fit(p, (~test).astype(float), c, n_params, pieces, starts[f])
            q = np.clip(expit(logits(starts[f])[test]), _LOG_CLIP, 1 - _LOG_CLIP)
            scores[ci] -= float(np.mean(-(p[test] * np.log(q) + (1 - p[test]) * np.log(1 - q))))
    best = float(CS[int(np.argmax(scores))])
    w = _joint_l1_fit(p, np.ones_like(p), best, n_params, pieces, None)
    difficulty = np.concatenate([[0.0], w[2 * names.size : 2 * names.size + prompt_names.size - 1]])
    return prompt_names, difficulty
