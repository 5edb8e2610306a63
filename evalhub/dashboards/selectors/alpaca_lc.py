"""AlpacaEval's length-controlled win rate for a study's target, per baseline and judge group.

Instruction difficulty needs every model judged against the same baseline, on the same prompt
set, by the same judge group, so it comes from every pairwise study on the study's prompt set,
not only this one. That joint fit is heavy (seconds to minutes), so it is a shared fit
(evalhub.dashboards.difficulty_fit): computed once per fingerprint by a worker and stored in
PostgreSQL. The target's own LC GLM (11 small regularised fits per scope) is a shared fit
too (evalhub.dashboards.lc_fit, kind LC_KIND): a worker fits every scope of a study at once,
keyed by the target's rows and the difficulty fit it used, so a results request only reads.
While the difficulty is being fitted the worker uses the last finished one of the same scope,
or else the minimal formula, and says so (`updating`, `difficulty_current`); while the LC fit
itself is pending the page shows the last one marked `updating` (`current` false), or no
number (`formula` null) when there is none yet.

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
    difficulty_fingerprint,
    difficulty_inputs,
    fitted_models,
    model_counts_by_scope,
    rows_by_scope,
)
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.fits.registry import Inputs
from evalhub.fits.services import FitAnswer, shared_fit_peek, shared_fit_reject, shared_fit_use
from evalhub.stats.alpaca_lc import (
    FORMULA_MINIMAL,
    MIN_MODELS_FOR_DIFFICULTY,
    length_controlled_fit,
)
from evalhub.studies.models import Study

__all__ = ["VERDICT_PREFERENCE", "length_controlled_all", "length_controlled_for"]

LC_KIND = "length_controlled"  # the shared fit's kind (evalhub.fits)
FORMAT = "lc-v1"
Counts = dict[Scope, list[tuple[str, int, int, int]]]


def _difficulty_for(
    answer: FitAnswer, prompts: np.ndarray
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Per-row difficulty from the shared fit (None: none usable yet), and what to say."""
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


def length_controlled_inputs(study_id: int, scopes: list[Scope]) -> Inputs:
    """The LC fit's inputs: the study and its scopes, sorted (one fit per set of scopes)."""
    return {"study": study_id, "scopes": [list(scope) for scope in sorted(set(scopes))]}


def _wants_difficulty(target: str, models: list[str]) -> bool:
    return target in models and len(models) >= MIN_MODELS_FOR_DIFFICULTY


def lc_fingerprint(target: str, scopes: list[Scope], counts: Counts,
                   difficulty: dict[Scope, FitAnswer]) -> str:  # fmt: skip
    """What the LC fit reads, per scope: the fitted models, the target's rows (count, id
    sum, last id) and which difficulty fit it uses (row, current, updating)."""
    parts = []
    for scope in scopes:
        models = fitted_models(counts[scope])
        mine = [c[1:] for c in counts[scope] if c[0] == target]
        found = difficulty.get(scope)
        used = "-" if found is None else f"{found.result_id}:{found.current:d}:{found.updating:d}"
        parts.append(f"{scope[0]}|{scope[1]}|{','.join(models)}|{mine}|{used}")
    return "\n".join(parts)


def lc_fit_fingerprint(inputs: Inputs) -> str:
    """The LC kind's fingerprint (worker side): the counts and the difficulty fits peeked,
    never requested (a worker's snapshot creates no rows)."""
    found = (
        Study.objects.filter(pk=inputs["study"])
        .values_list("target_model__slug", "prompt_set_id")
        .first()
    )
    if found is None:
        return "gone"
    target, prompt_set = found
    scopes = [(b, g) for b, g in inputs["scopes"]]
    counts = model_counts_by_scope(prompt_set, scopes)
    return lc_fingerprint(target, scopes, counts, _difficulty_peek(prompt_set, target, counts))


def _difficulty_peek(prompt_set: int, target: str, counts: Counts) -> dict[Scope, FitAnswer]:
    return {
        scope: shared_fit_peek(kind=KIND, inputs=difficulty_inputs(prompt_set, *scope),
                               data_fingerprint=difficulty_fingerprint(found))
        for scope, found in counts.items()
        if _wants_difficulty(target, fitted_models(found))
    }  # fmt: skip


def lc_fit_compute(inputs: Inputs) -> dict[str, Any]:
    """The worker's side: the LC of every scope of the study where the target has enough
    rows, with the difficulty fit of the same snapshot (current, else the last one)."""
    study = Study.objects.select_related("target_model").filter(pk=inputs["study"]).first()
    if study is None:
        return {"format": FORMAT, "entries": []}
    target = study.target_model.slug
    scopes = [(b, g) for b, g in inputs["scopes"]]
    counts = model_counts_by_scope(study.prompt_set_id, scopes)
    difficulty = _difficulty_peek(study.prompt_set_id, target, counts)
    rows = rows_by_scope(study.prompt_set_id, scopes, [target])
    found = (_length_controlled(study, scope, fitted_models(counts[scope]), rows.get(scope),
                                difficulty.get(scope)) for scope in scopes)  # fmt: skip
    return {"format": FORMAT, "entries": [lc for lc in found if lc is not None]}


def length_controlled_all(study: Study, scopes: list[Scope]) -> list[dict[str, Any]]:
    """length_controlled_for each (baseline, judge group) scope, in scope order, leaving out
    the scopes without enough rows. Reads the worker's LC fit (no fit here): one grouped
    count for all the scopes, the difficulty fits' rows and the LC fit's row."""
    if not scopes:
        return []
    target = study.target_model.slug
    wanted = sorted(set(scopes))
    counts = model_counts_by_scope(study.prompt_set_id, wanted)
    shown = [s for s in dict.fromkeys(scopes) if target in fitted_models(counts[s])]
    if not shown:
        return []
    difficulty = {  # requested here, so that a worker fits the difficulty of the current data
        scope: shared_fit_use(kind=KIND, inputs=difficulty_inputs(study.prompt_set_id, *scope),
                              data_fingerprint=difficulty_fingerprint(found))
        for scope, found in counts.items()
        if _wants_difficulty(target, fitted_models(found))
    }  # fmt: skip
    answer = shared_fit_use(
        kind=LC_KIND,
        inputs=length_controlled_inputs(study.pk, wanted),
        data_fingerprint=lc_fingerprint(target, wanted, counts, difficulty),
    )
    result = answer.result if isinstance(answer.result, dict) else {}
    usable = result.get("format") == FORMAT and isinstance(result.get("entries"), list)
    updating = answer.updating
    if answer.current and not usable and answer.fit_id is not None:
        updating = shared_fit_reject(fit_id=answer.fit_id, reason=f"not an {FORMAT} LC fit")
    stored = {(lc["baseline"], lc["judge_group"]): lc for lc in result["entries"]} if usable else {}
    current = answer.current and usable
    out = []
    for scope in shown:
        lc = stored.get(scope)
        if lc is None:
            out.append(_pending(scope, fitted_models(counts[scope]), target, counts, updating))
        elif current:
            out.append({**lc, "current": True})
        else:
            out.append(_last(lc, updating))
    return out


def _last(lc: dict[str, Any], updating: bool) -> dict[str, Any]:
    """The last LC fit of earlier data, marked as such (never passed off as current)."""
    why = "updating to the current data" if updating else "fitting the current data failed"
    note = lc["formula_note"]
    if "(the last fit" not in note:
        note += f" (the last fit, of earlier data; {why})"
    return {**lc, "formula_note": note, "updating": updating, "current": False,
            "difficulty_current": False}  # fmt: skip


def _pending(scope: Scope, models: list[str], target: str, counts: Counts,
             updating: bool) -> dict[str, Any]:  # fmt: skip
    """No LC fit of this scope yet: no number, and why."""
    n = next(c[1] for c in counts[scope] if c[0] == target)
    note = ("a worker is fitting the length-controlled win rate" if updating
            else "fitting the length-controlled win rate failed")  # fmt: skip
    return {
        "baseline": scope[0], "judge_group": scope[1], "formula": None, "formula_note": note,
        "models_for_difficulty": models, "updating": updating, "current": False,
        "difficulty_current": False, "difficulty_fitted_at": None, "n": n, "win_rate": None,
        "length_controlled_win_rate": None, "c": None, "extreme_change": False,
        "length_coefficient": None, "difficulty_coefficient": None, "intercept": None,
    }  # fmt: skip


def length_controlled_for(study: Study, baseline: str, judge_group: str) -> dict[str, Any] | None:
    """LC of the study's target against `baseline` under `judge_group`, or None when it has
    fewer than N_SPLITS judged rows (the cross-validation needs one row per fold)."""
    found = length_controlled_all(study, [(baseline, judge_group)])
    return found[0] if found else None


def _length_controlled(
    study: Study, scope: Scope, models: list[str], rows: dict[str, np.ndarray] | None,
    answer: FitAnswer | None,
) -> dict[str, Any] | None:  # fmt: skip
    """The worker's LC of one scope (the GLM's 11 fits), from the difficulty `answer`."""
    baseline, judge_group = scope
    if study.target_model.slug not in models or not rows:
        return None
    difficulty, state = None, {"updating": False, "difficulty_current": True,
                               "difficulty_fitted_at": None, "difficulty_models": []}  # fmt: skip
    if len(models) >= MIN_MODELS_FOR_DIFFICULTY and answer is not None:
        difficulty, state = _difficulty_for(answer, rows["prompt"])
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
