"""AlpacaEval's length-controlled win rate for a study's target, per baseline and judge group.

Instruction difficulty needs every model judged against the same baseline, on the same prompt
set, by the same judge group, so it comes from every pairwise study on the study's prompt set,
not only this one. That joint fit is heavy (seconds to minutes), so it is a shared fit
(evalhub.dashboards.difficulty_fit): computed once per fingerprint by a worker and stored in
PostgreSQL. This selector only reads it, then fits the target's own LC GLM (a few ms on 805
rows). While the current difficulty is being fitted it uses the last finished one of the same
scope, or else the minimal formula, and says so (`updating`, `difficulty_current`).

One row per counted judgment (both orders of an LLM judge count, as each is one AlpacaEval
annotation); the row's preference is its continuous `preference` where the judge gave one,
else 1 / 0.5 / 0 for target / tie / baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalhub.dashboards.selectors.difficulty import (
    KIND,
    VERDICT_PREFERENCE,
    Scope,
    difficulty_inputs,
    fitted_models,
    model_counts_by_scope,
    rows_by_scope,
)
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.fits.services import shared_fit_use
from evalhub.stats.alpaca_lc import (
    FORMULA_MINIMAL,
    MIN_MODELS_FOR_DIFFICULTY,
    length_controlled_fit,
)
from evalhub.studies.models import Study

__all__ = ["VERDICT_PREFERENCE", "length_controlled_all", "length_controlled_for"]


def _difficulty_for(
    inputs: dict[str, Any], prompts: np.ndarray
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Per-row difficulty from the shared fit (None: none usable yet), and what to say."""
    answer = shared_fit_use(kind=KIND, inputs=inputs)
    state: dict[str, Any] = {
        "updating": answer.updating,
        "difficulty_current": answer.current,
        "difficulty_fitted_at": answer.finished_at,
        "difficulty_models": [],
    }
    fit = answer.result
    if not fit or fit["difficulty"] is None:
        return None, state
    known = np.array(fit["prompts"], dtype=np.int64)
    at = np.searchsorted(known, prompts)
    if np.any(at >= known.size) or np.any(known[np.minimum(at, known.size - 1)] != prompts):
        return None, state  # the last fit lacks some of the target's prompts
    state["difficulty_models"] = fit["models"]
    return np.asarray(fit["difficulty"])[at], state


def length_controlled_all(study: Study, scopes: list[Scope]) -> list[dict[str, Any]]:
    """length_controlled_for each (baseline, judge group) scope, in scope order, leaving out
    the scopes without enough rows; the reads are two queries for all the scopes."""
    if not scopes:
        return []
    target = study.target_model.slug
    counts = model_counts_by_scope(study.prompt_set_id, scopes)
    rows = rows_by_scope(study.prompt_set_id, scopes, [target])
    found = (_length_controlled(study, scope, fitted_models(counts[scope]), rows.get(scope))
             for scope in scopes)  # fmt: skip
    return [lc for lc in found if lc is not None]


def length_controlled_for(study: Study, baseline: str, judge_group: str) -> dict[str, Any] | None:
    """LC of the study's target against `baseline` under `judge_group`, or None when it has
    fewer than N_SPLITS judged rows (the cross-validation needs one row per fold)."""
    found = length_controlled_all(study, [(baseline, judge_group)])
    return found[0] if found else None


def _length_controlled(
    study: Study, scope: Scope, models: list[str], rows: dict[str, np.ndarray] | None
) -> dict[str, Any] | None:
    baseline, judge_group = scope
    if study.target_model.slug not in models or not rows:
        return None
    inputs = difficulty_inputs(study.prompt_set_id, baseline, judge_group)
    difficulty, state = None, {"updating": False, "difficulty_current": True,
                               "difficulty_fitted_at": None, "difficulty_models": []}  # fmt: skip
    if len(models) >= MIN_MODELS_FOR_DIFFICULTY:
        difficulty, state = _difficulty_for(inputs, rows["prompt"])
    fit = length_controlled_fit(rows["preference"], rows["length_diff"], rows["model"], difficulty)
    if fit.formula != FORMULA_MINIMAL:
        used = state["difficulty_models"]
        note = f"instruction difficulty from {len(used)} models judged against {baseline}"
        if not state["difficulty_current"]:
            note += " (the last fit; updating to the current data)"
    elif len(models) < MIN_MODELS_FOR_DIFFICULTY:
        note = (
            f"no instruction-difficulty term: {len(models)} model(s) judged against {baseline} "
            f"on this prompt set by {judge_group}, fewer than {MIN_MODELS_FOR_DIFFICULTY}"
        )
    else:
        note = (
            f"the minimal formula (no instruction-difficulty term) while the instruction "
            f"difficulty of {len(models)} models judged against {baseline} is being fitted"
        )
    if fit.extreme_change[0]:
        note += (
            "; far from the raw win rate, which alpaca-eval flags as a likely GLM failure "
            "(length differences of one sign leave length and the intercept confounded)"
        )
    fitted_at = state["difficulty_fitted_at"]
    return jsonable(
        {
            "baseline": baseline,
            "judge_group": judge_group,
            "formula": fit.formula,
            "formula_note": note,
            "models_for_difficulty": models,
            "updating": state["updating"],
            "difficulty_current": state["difficulty_current"],
            "difficulty_fitted_at": fitted_at.isoformat() if fitted_at else None,
            "n": int(fit.n[0]),
            "win_rate": float(fit.win_rate[0]),
            "length_controlled_win_rate": float(fit.length_controlled[0]),
            "c": float(fit.c[0]),
            "extreme_change": bool(fit.extreme_change[0]),
            "length_coefficient": float(fit.coefficients[0, 0]),
            "difficulty_coefficient": float(fit.coefficients[0, 1]),
            "intercept": float(fit.coefficients[0, 2]),
        }
    )
