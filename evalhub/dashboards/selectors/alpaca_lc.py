"""AlpacaEval's length-controlled win rate for a study's target, per baseline and judge group.

Instruction difficulty needs every model judged against the same baseline, on the same prompt
set, by the same judge group, so the rows come from every pairwise study on the study's prompt
set, not only this one. One row per counted judgment (both orders of an LLM judge count, as
each is one AlpacaEval annotation); the row's preference is its continuous `preference` where
the judge gave one, else 1 / 0.5 / 0 for target / tie / baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import F, Q
from django.db.models.functions import Length

from evalhub.dashboards.selectors.frames import counted_judgments
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.stats.alpaca_lc import (
    FORMULA_MINIMAL,
    MIN_MODELS_FOR_DIFFICULTY,
    N_SPLITS,
    instruction_difficulty,
    length_controlled_fit,
)
from evalhub.studies.models import Judgment, Study

VERDICT_PREFERENCE = {"target": 1.0, "tie": 0.5, "baseline": 0.0}


def _rows(study: Study, baseline: str, judge_group: str) -> dict[str, np.ndarray]:
    found = list(
        Judgment.objects.filter(
            counted_judgments(
                Q(item__study__prompt_set_id=study.prompt_set_id)
                & Q(item__study__kind=Study.Kind.PAIRWISE)
            ),
            judge_group=judge_group,
            item__is_gold=False,
            item__baseline_output__model__slug=baseline,
            item__target_output__isnull=False,
            verdict__in=list(VERDICT_PREFERENCE),
        )
        .annotate(
            model=F("item__target_output__model__slug"),
            prompt=F("item__prompt_id"),
            target_chars=Length("item__target_output__text"),
            baseline_chars=Length("item__baseline_output__text"),
        )
        .values_list("model", "prompt", "preference", "verdict", "target_chars", "baseline_chars")
        .order_by("id")
    )
    if not found:
        return {}
    model, prompt, pref, verdict, t_chars, b_chars = zip(*found, strict=True)
    return {
        "model": np.array(model, dtype=str),
        "prompt": np.array(prompt, dtype=np.int64),
        "preference": np.array(
            [VERDICT_PREFERENCE[v] if p is None else p for p, v in zip(pref, verdict, strict=True)]
        ),
        "length_diff": np.array(t_chars, dtype=np.float64) - np.array(b_chars, dtype=np.float64),
    }


def length_controlled_for(study: Study, baseline: str, judge_group: str) -> dict[str, Any] | None:
    """LC of the study's target against `baseline` under `judge_group`, or None when it has
    fewer than N_SPLITS judged rows (the cross-validation needs one row per fold)."""
    rows = _rows(study, baseline, judge_group)
    target = study.target_model.slug
    if not rows or int((rows["model"] == target).sum()) < N_SPLITS:
        return None
    counts = {m: int((rows["model"] == m).sum()) for m in np.unique(rows["model"])}
    models = sorted(m for m, n in counts.items() if n >= N_SPLITS)
    keep = np.isin(rows["model"], models)
    rows = {k: v[keep] for k, v in rows.items()}
    difficulty = None
    if len(models) >= MIN_MODELS_FOR_DIFFICULTY:
        prompts, per_prompt = instruction_difficulty(
            rows["preference"], rows["length_diff"], rows["model"], rows["prompt"]
        )
        difficulty = per_prompt[np.searchsorted(prompts, rows["prompt"])]
    mine = rows["model"] == target
    fit = length_controlled_fit(
        rows["preference"][mine], rows["length_diff"][mine], rows["model"][mine],
        None if difficulty is None else difficulty[mine],
    )  # fmt: skip
    note = (
        f"no instruction-difficulty term: {len(models)} model(s) judged against {baseline} on "
        f"this prompt set by {judge_group}, fewer than {MIN_MODELS_FOR_DIFFICULTY}"
        if fit.formula == FORMULA_MINIMAL
        else f"instruction difficulty from {len(models)} models judged against {baseline}"
    )
    if fit.extreme_change[0]:
        note += (
            "; far from the raw win rate, which alpaca-eval flags as a likely GLM failure "
            "(length differences of one sign leave length and the intercept confounded)"
        )
    return jsonable(
        {
            "baseline": baseline,
            "judge_group": judge_group,
            "formula": fit.formula,
            "formula_note": note,
            "models_for_difficulty": models,
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
