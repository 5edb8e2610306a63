"""Reads for the instruction-difficulty fit: the judgments of one (prompt set, baseline,
judge group) scope, per model and per row (see evalhub.dashboards.difficulty_fit)."""

from __future__ import annotations

import numpy as np
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Length

from evalhub.dashboards.selectors.frames import counted_judgments
from evalhub.fits.registry import Inputs
from evalhub.stats.alpaca_lc import N_SPLITS
from evalhub.studies.models import Judgment, Study

KIND = "instruction_difficulty"
VERDICT_PREFERENCE = {"target": 1.0, "tie": 0.5, "baseline": 0.0}


def difficulty_inputs(prompt_set_id: int, baseline: str, judge_group: str) -> Inputs:
    return {"prompt_set": prompt_set_id, "baseline": baseline, "judge_group": judge_group}


def scope_judgments(inputs: Inputs) -> QuerySet[Judgment]:
    """Counted pairwise judgments against the baseline on the prompt set, by the group."""
    return Judgment.objects.filter(
        counted_judgments(
            Q(item__study__prompt_set_id=inputs["prompt_set"])
            & Q(item__study__kind=Study.Kind.PAIRWISE)
        ),
        judge_group=inputs["judge_group"],
        item__baseline_output__model__slug=inputs["baseline"],
        item__target_output__isnull=False,
        verdict__in=list(VERDICT_PREFERENCE),
    )


def model_counts(inputs: Inputs) -> list[tuple[str, int, int, int]]:
    """(model, rows, sum of judgment ids, last id) per model judged in the scope, by model."""
    return list(
        scope_judgments(inputs)
        .values_list("item__target_output__model__slug")
        .annotate(n=Count("id"), s=Sum("id"), hi=Max("id"))
        .order_by("item__target_output__model__slug")
    )


def fitted_models(counts: list[tuple[str, int, int, int]]) -> list[str]:
    """The models with enough rows for the cross-validation (one per fold)."""
    return [m for m, n, _s, _hi in counts if n >= N_SPLITS]


def scope_rows(inputs: Inputs, models: list[str]) -> dict[str, np.ndarray]:
    """One row per counted judgment of `models`: model, prompt id, preference (continuous
    where the judge gave one, else 1 / 0.5 / 0) and len(model) - len(baseline) in chars."""
    found = list(
        scope_judgments(inputs)
        .filter(item__target_output__model__slug__in=models)
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
