"""The shared instruction-difficulty fit behind AlpacaEval's length_controlled_v1.

One fit per (prompt set, baseline, judge group) and the data it reads (the models judged
there with at least N_SPLITS counted rows, and their rows), computed by a worker and reused by
every pairwise study on that prompt set (see evalhub.fits). Registered in
DashboardsConfig.ready().
"""

from __future__ import annotations

from typing import Any

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.difficulty import (
    KIND,
    difficulty_fingerprint,
    fitted_models,
    model_counts,
    scope_rows,
)
from evalhub.fits.registry import FitKind, Inputs, fit_kind_register
from evalhub.stats.alpaca_lc import MIN_MODELS_FOR_DIFFICULTY
from evalhub.stats.instruction_difficulty import instruction_difficulty
from evalhub.studies.models import Study


def _scope(inputs: Inputs) -> str:
    return (
        f"prompt_set={inputs['prompt_set']}|baseline={inputs['baseline']}"
        f"|judge_group={inputs['judge_group']}"
    )


def _fingerprint(inputs: Inputs) -> str:
    return difficulty_fingerprint(model_counts(inputs))


def _compute(inputs: Inputs) -> dict[str, Any]:
    """{"models", "prompts", "difficulty"} (prompts by id; difficulty None under
    MIN_MODELS_FOR_DIFFICULTY models)."""
    models = fitted_models(model_counts(inputs))
    if len(models) < MIN_MODELS_FOR_DIFFICULTY:
        return {"models": models, "prompts": [], "difficulty": None}
    rows = scope_rows(inputs, models)
    prompts, difficulty = instruction_difficulty(
        rows["preference"], rows["length_diff"], rows["model"], rows["prompt"]
    )
    return {"models": models, "prompts": prompts.tolist(), "difficulty": difficulty.tolist()}


def _done(inputs: Inputs) -> None:
    """Every pairwise study on the prompt set shows the new fit on its next request."""
    studies = Study.objects.filter(prompt_set_id=inputs["prompt_set"], kind=Study.Kind.PAIRWISE)
    for study_id in studies.values_list("id", flat=True):
        study_stats_invalidate(study_id)


def difficulty_fit_register() -> None:
    fit_kind_register(
        FitKind(name=KIND, scope=_scope, fingerprint=_fingerprint, compute=_compute, on_done=_done)
    )
