"""Reads for the instruction-difficulty fit: the judgments of one (prompt set, baseline,
judge group) scope, per model and per row (see evalhub.dashboards.difficulty_fit)."""

from __future__ import annotations

import numpy as np
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Length

from evalhub.dashboards.selectors.frames import column_arrays, counted_judgments
from evalhub.fits.registry import Inputs
from evalhub.stats.alpaca_lc import N_SPLITS
from evalhub.studies.models import Item, Judgment, Study

KIND = "instruction_difficulty"
VERDICT_PREFERENCE = {"target": 1.0, "tie": 0.5, "baseline": 0.0}


def discrete_preference(verdict: np.ndarray) -> np.ndarray:
    """1 / 0.5 / 0 per target / tie / baseline verdict (each distinct verdict looked up once)."""
    names, codes = np.unique(verdict, return_inverse=True)
    return np.array([VERDICT_PREFERENCE[v] for v in names.tolist()])[codes.reshape(-1)]


def difficulty_inputs(prompt_set_id: int, baseline: str, judge_group: str) -> Inputs:
    return {"prompt_set": prompt_set_id, "baseline": baseline, "judge_group": judge_group}


Scope = tuple[str, str]  # (baseline model slug, judge group)


def _judgments(prompt_set_id: int, baselines: list[str], groups: list[str]) -> QuerySet[Judgment]:
    """Counted pairwise judgments against any of the baselines on the prompt set, by any of
    the groups (the scopes' union: one query serves a study's every scope)."""
    return Judgment.objects.filter(
        counted_judgments(
            Q(item__study__prompt_set_id=prompt_set_id) & Q(item__study__kind=Study.Kind.PAIRWISE)
        ),
        judge_group__in=groups,
        item__baseline_output__model__slug__in=baselines,
        item__target_output__isnull=False,
        verdict__in=list(VERDICT_PREFERENCE),
    )


def model_counts_by_scope(
    prompt_set_id: int, scopes: list[Scope]
) -> dict[Scope, list[tuple[str, int, int, int]]]:
    """model_counts of each scope, in one grouped query."""
    baselines, groups = sorted({b for b, _ in scopes}), sorted({g for _, g in scopes})
    found = (
        _judgments(prompt_set_id, baselines, groups)
        .values_list(
            "item__baseline_output__model__slug", "judge_group", "item__target_output__model__slug"
        )
        .annotate(n=Count("id"), s=Sum("id"), hi=Max("id"))
        .order_by("item__target_output__model__slug")
    )
    counts: dict[Scope, list[tuple[str, int, int, int]]] = {scope: [] for scope in scopes}
    for baseline, group, model, n, total, hi in found:
        if (baseline, group) in counts:
            counts[(baseline, group)].append((model, n, total, hi))
    return counts


def model_counts(inputs: Inputs) -> list[tuple[str, int, int, int]]:
    """(model, rows, sum of judgment ids, last id) per model judged in the scope, by model."""
    scope = (inputs["baseline"], inputs["judge_group"])
    return model_counts_by_scope(inputs["prompt_set"], [scope])[scope]


def difficulty_fingerprint(counts: list[tuple[str, int, int, int]]) -> str:
    """The difficulty fit's data fingerprint from its scope's model_counts: the rows of
    every model it fits (count, id sum, last id)."""
    return ";".join(f"{m}:{n}:{s}:{hi}" for m, n, s, hi in counts if n >= N_SPLITS)


def fitted_models(counts: list[tuple[str, int, int, int]]) -> list[str]:
    """The models with enough rows for the cross-validation (one per fold)."""
    return [m for m, n, _s, _hi in counts if n >= N_SPLITS]


def _length_diffs(
    prompt_set_id: int, baselines: list[str], models: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(item ids sorted, len(target) - len(baseline) in chars) of the scopes' items: counted
    once per item, not once per judgment row (a 12-judgment item's texts measured once)."""
    found = list(
        Item.objects.filter(
            study__prompt_set_id=prompt_set_id,
            study__kind=Study.Kind.PAIRWISE,
            baseline_output__model__slug__in=baselines,
            target_output__model__slug__in=models,
        )
        .annotate(diff=Length("target_output__text") - Length("baseline_output__text"))
        .values_list("id", "diff")
        .order_by("id")
    )
    ids, diffs = column_arrays(found, (np.int64, np.float64))
    return ids, diffs


def rows_by_scope(
    prompt_set_id: int, scopes: list[Scope], models: list[str]
) -> dict[Scope, dict[str, np.ndarray]]:
    """scope_rows of `models` for each scope (absent: no rows), in two queries."""
    baselines, groups = sorted({b for b, _ in scopes}), sorted({g for _, g in scopes})
    found = list(
        _judgments(prompt_set_id, baselines, groups)
        .filter(item__target_output__model__slug__in=models)
        .values_list(
            "item__baseline_output__model__slug",
            "judge_group",
            "item__target_output__model__slug",
            "item__prompt_id",
            "item_id",
            "preference",
            "verdict",
        )
        .order_by("id")
    )
    if not found:
        return {}
    baseline, group, model, prompt, item, pref, verdict = column_arrays(
        found, (str, str, str, np.int64, np.int64, np.float64, str)
    )
    preference = np.where(np.isnan(pref), discrete_preference(verdict), pref)  # None: NaN
    item_ids, diffs = _length_diffs(prompt_set_id, baselines, models)
    length_diff = diffs[np.searchsorted(item_ids, item)]
    out = {}
    for scope in scopes:
        mine = (baseline == scope[0]) & (group == scope[1])
        if mine.any():
            out[scope] = {
                "model": model[mine],
                "prompt": prompt[mine],
                "preference": preference[mine],
                "length_diff": length_diff[mine],
            }
    return out


def scope_rows(inputs: Inputs, models: list[str]) -> dict[str, np.ndarray]:
    """One row per counted judgment of `models`: model, prompt id, preference (continuous
    where the judge gave one, else 1 / 0.5 / 0) and len(model) - len(baseline) in chars."""
    scope = (inputs["baseline"], inputs["judge_group"])
    return rows_by_scope(inputs["prompt_set"], [scope], models).get(scope, {})
