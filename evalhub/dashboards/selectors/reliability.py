"""Human verdicts aggregated per item, beside the per-judgment shares: the majority vote
and Dawid-Skene (crowd-kit), which weighs each rater by their estimated reliability.

A Dawid-Skene fit takes seconds on a large study (crowd-kit's EM in pandas), longer than
a cold dashboard may. So the fit is cached under a fingerprint of the judgments it reads
(valid human verdicts: count, last id, excluded count): a page that finds the fit for its
data uses it; one that finds only an older fit shows it, marked stale, and queues a refit
(the task `dashboards.dawid_skene_refit`, once per fingerprint) that makes the pages fresh
when it lands; a study never fitted before is fitted on the spot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from celery import current_app
from django.core.cache import cache
from django.db.models import Count, Max, Q
from numpy.typing import NDArray

from evalhub.cache_redis import REDIS_ERRORS, redis_unavailable
from evalhub.dashboards.selectors.frames import (
    LLM_PREFIX,
    ItemTable,
    array_agg,
    as_list,
    counted_judgments,
)
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.queues import CeleryQueue
from evalhub.stats.dawid_skene import dawid_skene, majority_vote
from evalhub.studies.models import Judgment, Study

log = logging.getLogger(__name__)

# Classes 0..2 of each scale, their names in the results, and the tie class.
SCALES: dict[str, tuple[dict[str, int], tuple[str, ...], int | None]] = {
    Study.Kind.PAIRWISE: ({"baseline": 0, "tie": 1, "target": 2}, ("loss", "tie", "win"), 1),
    Study.Kind.ABSOLUTE: ({"fail": 0, "pass": 1, "excellent": 2}, ("fail", "pass", "excellent"),
                          None),
}  # fmt: skip
FIT_TTL_SECONDS = 7 * 24 * 3600
REFIT_LOCK_SECONDS = 600
# The Celery task that refits off the request path (evalhub.dashboards.tasks).
REFIT_TASK = "dashboards.dawid_skene_refit"


def _verdicts(study: Study) -> Q:
    classes = SCALES[study.kind][0]
    return counted_judgments(Q(item__study=study, rater__isnull=False, verdict__in=classes)) & ~Q(
        judge_group__startswith=LLM_PREFIX
    )


def judgment_counts(study: Study) -> dict[str, Any]:
    """In one aggregate: the valid human verdicts (count, last id) the fit depends on, and
    the excluded raters and judgments left out of every result."""
    excluded = {
        "excluded_judgments": Count("id", filter=Q(excluded=True)),
        "excluded_raters": Count("rater_id", filter=Q(excluded=True), distinct=True),
    }
    if study.kind not in SCALES:  # no fit for this kind of study
        found = Judgment.objects.filter(item__study=study).aggregate(**excluded)
        return {**found, "valid": 0, "last": None}
    return Judgment.objects.filter(item__study=study).aggregate(
        valid=Count("id", filter=_verdicts(study)),
        last=Max("id", filter=_verdicts(study)),
        **excluded,
    )


def excluded_counts(study: Study, counts: dict[str, Any] | None = None) -> dict[str, int]:
    """{"raters", "judgments"}: excluded raters' judgments left out of every result."""
    counts = counts or judgment_counts(study)
    return {"raters": counts["excluded_raters"], "judgments": counts["excluded_judgments"]}


def fit_fingerprint(study: Study, counts: dict[str, Any] | None = None) -> str:
    """What the study's fit depends on (see judgment_counts), as a cache key part."""
    counts = counts or judgment_counts(study)
    return f"{counts['valid']}:{counts['last']}:{counts['excluded_judgments']}"


@dataclass(frozen=True)
class ReliabilityFit:
    """A Dawid-Skene fit of the study's valid human verdicts, by ids: `item_ids` with their
    `label` (class) and `proba`, `rater_ids` with their `reliability`; `fingerprint`: the
    data it was fitted on."""

    fingerprint: str
    item_ids: NDArray[np.int64]
    label: NDArray[np.int64]
    proba: NDArray[np.float64]
    rater_ids: NDArray[np.int64]
    reliability: NDArray[np.float64]


def _key(study_id: int, fingerprint: str) -> str:
    return f"dashboards:dawid-skene:{study_id}:{fingerprint}"


def reliability_fit_compute(study: Study) -> ReliabilityFit | None:
    """Fit Dawid-Skene to the study's valid human verdicts now and cache the fit (also as
    the study's latest). None for kinds of study without a scale for it."""
    if study.kind not in SCALES:
        return None
    fingerprint = fit_fingerprint(study)
    classes = SCALES[study.kind][0]
    found = {
        k.removeprefix("all_"): as_list(v)
        for k, v in Judgment.objects.filter(_verdicts(study))
        .aggregate(
            all_item=array_agg("item_id", ordered=True),
            all_rater=array_agg("rater_id", ordered=True),
            all_verdict=array_agg("verdict", ordered=True),
        )
        .items()
    }
    item_ids = np.array(found["item"], dtype=np.int64)
    rater_ids = np.array(found["rater"], dtype=np.int64)
    names, codes = np.unique(np.array(found["verdict"], dtype=str), return_inverse=True)
    label = np.array([classes[str(v)] for v in names] or [0])[codes.reshape(-1)]
    fitted = dawid_skene(item_ids, rater_ids, label, n_classes=3)
    fit = ReliabilityFit(fingerprint, fitted.items, fitted.label, fitted.proba, fitted.raters,
                         fitted.reliability)  # fmt: skip
    try:
        cache.set(_key(study.pk, fingerprint), fit, FIT_TTL_SECONDS)
        cache.set(_key(study.pk, "latest"), fit, FIT_TTL_SECONDS)
    except REDIS_ERRORS as exc:  # the fit is still right, only not kept
        redis_unavailable("Dawid-Skene fit cache", exc)
    return fit


def reliability_fit(
    study: Study, counts: dict[str, Any] | None = None
) -> tuple[ReliabilityFit | None, bool]:
    """The study's Dawid-Skene fit and whether it is for the current data (see the module
    docstring: a stale fit queues a refit; a study never fitted is fitted now). `counts`:
    judgment_counts, when the caller has them."""
    if study.kind not in SCALES:
        return None, True
    fingerprint = fit_fingerprint(study, counts)
    try:
        fit = cache.get(_key(study.pk, fingerprint))
        latest = None if fit is not None else cache.get(_key(study.pk, "latest"))
        refit = f"dashboards:dawid-skene-refit:{study.pk}:{fingerprint}"
        queue = fit is None and latest is not None and cache.add(refit, 1, REFIT_LOCK_SECONDS)
    except REDIS_ERRORS as exc:  # Redis down: slower (fitted now), never broken
        redis_unavailable("Dawid-Skene fit cache", exc)
        return reliability_fit_compute(study), True
    if fit is not None:
        return fit, True
    if latest is None:
        return reliability_fit_compute(study), True
    if queue:
        try:  # by name: evalhub.dashboards.tasks imports this module
            current_app.send_task(REFIT_TASK, args=[study.pk], queue=CeleryQueue.DEFAULT.value)
        except Exception:  # a broker outage must not take the dashboards down
            log.exception("study %s: could not queue a Dawid-Skene refit", study.slug)
    return latest, False


def _shares(classes: NDArray, names: tuple[str, ...]) -> dict[str, float]:
    counts = np.bincount(classes.astype(np.intp), minlength=len(names))
    total = max(int(counts.sum()), 1)
    return {name: counts[c] / total for c, name in enumerate(names)}


def aggregation_block(
    study: Study, items: ItemTable, in_scope: NDArray, counts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """{"method", "current" (the fit is for the data shown), "rows"}: per baseline
    (pairwise) or model (Fail / Pass / Excellent), over the in-scope items with human
    verdicts, the shares of per-item majority votes and of Dawid-Skene labels (plus
    "dawid_skene_mean", the mean posterior). Rows are empty for other kinds of study."""
    block: dict[str, Any] = {"method": "Dawid-Skene (crowd-kit), human raters", "current": True,
                             "rows": []}  # fmt: skip
    if study.kind not in SCALES:
        return block
    classes, names, tie = SCALES[study.kind]
    rows = list(
        Judgment.objects.filter(_verdicts(study))
        .values("verdict")
        .annotate(ids=array_agg("item_id"))
        .order_by()
        .values_list("verdict", "ids")
    )
    if not rows:
        return block
    item_ids = np.concatenate([np.array(as_list(ids), dtype=np.int64) for _, ids in rows])
    label = np.repeat([classes[v] for v, _ in rows], [len(as_list(ids)) for _, ids in rows])
    pos = items.index_of(item_ids)
    keep = in_scope[pos]
    majority = majority_vote(pos[keep], label[keep], items.ids.size, 3, tie_class=tie)
    fit, current = reliability_fit(study, counts)
    block["current"] = current
    if fit is None or not fit.item_ids.size:
        return block
    fit_pos = items.index_of(fit.item_ids)
    ok = in_scope[fit_pos]
    fit_pos, fit_label, fit_proba = fit_pos[ok], fit.label[ok], fit.proba[ok]
    key = items.baseline_model if study.kind == Study.Kind.PAIRWISE else items.target_model
    key_name = "baseline" if study.kind == Study.Kind.PAIRWISE else "model"
    for value in np.unique(key[fit_pos]).tolist():
        mine = key[fit_pos] == value
        voted = majority[fit_pos[mine]]
        block["rows"].append({
            key_name: value,
            "items": int(mine.sum()),
            "majority": _shares(voted[np.isfinite(voted)], names),
            "dawid_skene": _shares(fit_label[mine], names),
            "dawid_skene_mean": dict(zip(names, fit_proba[mine].mean(axis=0), strict=True)),
        })  # fmt: skip
    return jsonable(block)
