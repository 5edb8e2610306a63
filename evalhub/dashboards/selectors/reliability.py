"""Human verdicts aggregated per item, beside the per-judgment shares: the majority vote
and Dawid-Skene (crowd-kit), which weighs each rater by their estimated reliability."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Count, Q

from evalhub.dashboards.selectors.frames import (
    LLM_PREFIX,
    ItemTable,
    array_agg,
    as_list,
    counted_judgments,
)
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.stats.dawid_skene import dawid_skene, majority_vote
from evalhub.studies.models import Judgment, Study

# Classes 0..2 of each scale, and their names in the results.
SCALES = {
    Study.Kind.PAIRWISE: ({"baseline": 0, "tie": 1, "target": 2}, ("loss", "tie", "win"), 1),
    Study.Kind.ABSOLUTE: ({"fail": 0, "pass": 1, "excellent": 2}, ("fail", "pass", "excellent"),
                          None),
}  # fmt: skip


def excluded_counts(study: Study) -> dict[str, int]:
    """{"raters", "judgments"}: excluded raters' judgments left out of every result."""
    found = Judgment.objects.filter(item__study=study, excluded=True).aggregate(
        judgments=Count("id"), raters=Count("rater_id", distinct=True)
    )
    return {"raters": found["raters"], "judgments": found["judgments"]}


def _shares(classes: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
    counts = np.bincount(classes.astype(np.intp), minlength=len(names))
    total = max(int(counts.sum()), 1)
    return {name: counts[c] / total for c, name in enumerate(names)}


def aggregated_results(study: Study, items: ItemTable, in_scope: np.ndarray) -> list[dict]:
    """Per baseline (pairwise) or model (Fail / Pass / Excellent): over the items with
    human judgments, the shares of per-item majority votes and of Dawid-Skene labels
    (plus "dawid_skene_mean", the mean posterior), and each rater's reliability is in
    the raters table. Empty for other kinds of study."""
    if study.kind not in SCALES:
        return []
    classes, names, tie = SCALES[study.kind]
    where = counted_judgments(Q(item__study=study, rater__isnull=False, verdict__in=classes))
    found = {
        k.removeprefix("all_"): as_list(v)
        for k, v in Judgment.objects.filter(where)
        .exclude(judge_group__startswith=LLM_PREFIX)
        .aggregate(
            all_item=array_agg("item_id", ordered=True),
            all_rater=array_agg("rater_id", ordered=True),
            all_verdict=array_agg("verdict", ordered=True),
        )
        .items()
    }
    item_ids = np.array(found["item"], dtype=np.int64)
    if not item_ids.size:
        return []
    pos = items.index_of(item_ids)
    keep = in_scope[pos]
    pos, rater = pos[keep], np.array(found["rater"], dtype=np.int64)[keep]
    verdict_names, verdict_codes = np.unique(np.array(found["verdict"], dtype=str)[keep],
                                             return_inverse=True)  # fmt: skip
    label = np.array([classes[str(v)] for v in verdict_names] or [0])[verdict_codes.reshape(-1)]
    if not pos.size:
        return []
    fit = dawid_skene(pos, rater, label, n_classes=3)
    majority = majority_vote(pos, label, items.ids.size, 3, tie_class=tie)
    key = items.baseline_model if study.kind == Study.Kind.PAIRWISE else items.target_model
    key_name = "baseline" if study.kind == Study.Kind.PAIRWISE else "model"
    rows = []
    for value in np.unique(key[fit.items]).tolist():
        mine = key[fit.items] == value
        voted = majority[fit.items[mine]]
        voted = voted[np.isfinite(voted)]
        rows.append(
            {
                key_name: value,
                "items": int(mine.sum()),
                "majority": _shares(voted, names),
                "dawid_skene": _shares(fit.label[mine], names),
                "dawid_skene_mean": dict(zip(names, fit.proba[mine].mean(axis=0), strict=True)),
            }
        )
    return jsonable(rows)


def aggregation_block(study: Study, items: ItemTable, in_scope: np.ndarray) -> dict[str, Any]:
    return {
        "method": "Dawid-Skene (crowd-kit), human raters",
        "rows": aggregated_results(study, items, in_scope),
    }
