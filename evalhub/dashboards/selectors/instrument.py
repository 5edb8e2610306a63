"""Results in the study's own instrument: k-way choice shares (pairwise from the target's
side, so "both bad" is its own share), Arena-Hard's weighted win rate beside the plain one,
label distributions of custom label sets, and agreement at the instrument's level."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from django.db.models import Q

from evalhub.dashboards.selectors.frames import LLM_PREFIX, array_agg, as_list, counted_judgments
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.instruments.definitions import PAIRWISE, Definition
from evalhub.stats import agreement_matrix, choice_shares, weighted_win_rate
from evalhub.studies.models import Judgment, Study

ROUNDS = 1000
SEED = 0
_POINTS = {"target": 1.0, "tie": 0.5, "baseline": 0.0}


def instrument_meta(study: Study) -> dict[str, Any] | None:
    """The study's instrument: slug, version, hash, kind, levels and choices."""
    instrument = study.instrument
    if instrument is None:
        return None
    return {
        "slug": instrument.slug,
        "version": instrument.version,
        "content_hash": instrument.content_hash,
        "kind": instrument.kind,
        "levels": instrument.levels,
        "choices": [
            {k: c[k] for k in ("key", "value", "label", "side", "weight", "score") if k in c}
            for c in instrument.choices
        ],
    }


def _rows(study: Study, groups: list[str] | None, category: str | None) -> list[tuple]:
    """Counted judgments grouped by what decides their choice and slice, with their item and
    prompt ids aggregated in the database (aligned, in judgment order)."""
    found = Judgment.objects.filter(counted_judgments(Q(item__study=study)))
    if groups:
        found = found.filter(judge_group__in=groups)
    if category:
        found = found.filter(item__prompt__category=category)
    fields = ["judge_group", "raw_choice", "order", "verdict", "turn_labels",
              "item__baseline_output__model__slug", "item__target_output__model__slug"]  # fmt: skip
    rows = (
        found.values(*fields)
        .annotate(
            item_ids=array_agg("item_id", ordered=True),
            prompt_ids=array_agg("item__prompt_id", ordered=True),
        )
        .order_by()
        .values_list(*fields, "item_ids", "prompt_ids")
    )
    return [(*row[:-2], as_list(row[-2]), as_list(row[-1])) for row in rows]


def instrument_results(
    study: Study, *, groups: list[str] | None = None, category: str | None = None
) -> dict[str, Any]:
    """Keys `instrument`, `choices`, `weighted_win_rate` and `instrument_agreement` of the
    results JSON (see study_results)."""
    body: dict[str, Any] = {
        "instrument": instrument_meta(study),
        "choices": [],
        "weighted_win_rate": [],
        "instrument_agreement": None,
    }
    if study.instrument is None:
        return body
    definition = study.instrument.definition
    values = [c.value for c in definition.choices]
    index = {v: i for i, v in enumerate(values)}
    pairwise = definition.kind == PAIRWISE
    # (slice, judge group) -> lists of code, point, item and prompt arrays
    cells: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for group, raw, order, verdict, labels, baseline, target, items, prompts in _rows(
        study, groups, category
    ):
        if pairwise:
            choice = definition.target_frame(raw, order)
            answers = [] if choice is None or not baseline else [choice.value]
        elif labels:  # dialogue: every turn's label counts, as LIMA counted turns
            answers = labels
        else:
            choice = definition.by_answer.get(raw) or definition.by_value.get(verdict)
            answers = [] if choice is None else [choice.value]
        n = len(items)
        for answer in answers:
            cells[((baseline if pairwise else target) or "", group)].append(
                (np.full(n, index[answer]), np.full(n, _POINTS.get(verdict, 0.5)),
                 np.asarray(items, dtype=np.int64), np.asarray(prompts, dtype=np.int64))
            )  # fmt: skip
    slice_name = "baseline" if pairwise else "model"
    weights_of = np.array([c.weight for c in definition.choices])
    agreement_parts = []
    for (key, group), parts in sorted(cells.items()):
        codes, points, items, prompts = (np.concatenate(p) for p in zip(*parts, strict=True))
        kind = "llm" if group.startswith(LLM_PREFIX) else "human"
        head = {slice_name: key, "judge_group": group, "judge_kind": kind}
        body["choices"].append({**head, **jsonable(choice_shares(codes, values))})
        agreement_parts.append((items, np.full(items.size, group), codes))
        if pairwise:
            rate = weighted_win_rate(points, weights_of[codes], prompts, rounds=ROUNDS, seed=SEED)
            body["weighted_win_rate"].append({**head, **jsonable(rate)})
    if agreement_parts:
        items, group_ids, codes = (np.concatenate(p) for p in zip(*agreement_parts, strict=True))
        matrix = agreement_matrix(
            items, group_ids, codes.astype(np.int64), scale="label",
            categories=tuple(range(len(values))), level=_alpha_level(definition),
        )  # fmt: skip
        body["instrument_agreement"] = jsonable(matrix)
    return body


def _alpha_level(definition: Definition) -> str:
    # A scale's choices are evenly spaced in its order: its codes' differences are intervals.
    return definition.levels
