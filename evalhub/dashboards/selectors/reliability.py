"""Human verdicts aggregated per item, beside the per-judgment shares: the majority vote,
the reliability-weighted aggregate (the default, evalhub.dashboards.selectors.crowd_quality)
and, as a named option, Dawid-Skene (crowd-kit).

A Dawid-Skene fit takes seconds on a large study (crowd-kit's EM in pandas), longer than a
cold dashboard may, so it is made by a worker (`dashboards.dawid_skene_refit`, once per
fingerprint) and cached under the fingerprint of the judgments it read. A page uses a
cached fit only when it is for the current data and this study's items; otherwise its
Dawid-Skene column says "updating" and the refit is queued. An older fit is never shown
beside newer data.
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
from evalhub.dashboards.selectors.crowd_fit import SCALES, verdicts_q
from evalhub.dashboards.selectors.crowd_quality import crowd_quality, item_aggregate
from evalhub.dashboards.selectors.frames import ItemTable, array_agg, as_list
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.queues import CeleryQueue
from evalhub.stats.dawid_skene import dawid_skene, majority_vote
from evalhub.studies.models import Judgment, Study

log = logging.getLogger(__name__)

FIT_TTL_SECONDS = 7 * 24 * 3600
REFIT_LOCK_SECONDS = 600
# The Celery task that refits off the request path (evalhub.dashboards.tasks).
REFIT_TASK = "dashboards.dawid_skene_refit"
FIT_FORMAT = "dawid-skene-v2"
_verdicts = verdicts_q


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
    `label` (class) and `proba`, `rater_ids` with their `reliability`; `study_id`,
    `fingerprint` and `format`: what it was fitted on and how."""

    fingerprint: str
    item_ids: NDArray[np.int64]
    label: NDArray[np.int64]
    proba: NDArray[np.float64]
    rater_ids: NDArray[np.int64]
    reliability: NDArray[np.float64]
    study_id: int = 0
    format: str = FIT_FORMAT


def _key(study_id: int, fingerprint: str) -> str:
    return f"dashboards:dawid-skene:{FIT_FORMAT}:{study_id}:{fingerprint}"


def reliability_fit_compute(study: Study) -> ReliabilityFit | None:
    """Fit Dawid-Skene to the study's valid human verdicts now and cache the fit under
    its fingerprint. None for kinds of study without a scale for it."""
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
                         fitted.reliability, study.pk)  # fmt: skip
    try:
        cache.set(_key(study.pk, fingerprint), fit, FIT_TTL_SECONDS)
    except REDIS_ERRORS as exc:  # the fit is still right, only not kept
        redis_unavailable("Dawid-Skene fit cache", exc)
    return fit


def _usable(found: Any, study: Study, fingerprint: str, items: ItemTable | None) -> bool:
    """Whether a cached value is a Dawid-Skene fit of this study's current data."""
    try:
        if not isinstance(found, ReliabilityFit) or found.format != FIT_FORMAT:
            return False
        if found.study_id != study.pk or found.fingerprint != fingerprint:
            return False
        n = found.item_ids.size
        if found.label.shape != (n,) or found.proba.shape != (n, 3):
            return False
        if found.reliability.shape != found.rater_ids.shape:
            return False
        if items is not None and n:
            pos = np.minimum(items.index_of(found.item_ids), items.ids.size - 1)
            return bool(items.ids.size and (items.ids[pos] == found.item_ids).all())
        return True
    except Exception:  # whatever the cache holds, a bad value is a miss, never a 500
        return False


def reliability_fit(
    study: Study, counts: dict[str, Any] | None = None, items: ItemTable | None = None
) -> tuple[ReliabilityFit | None, bool]:
    """The study's Dawid-Skene fit for its current data and True, or (None, False) while
    a worker fits it (queued here, once per fingerprint). `counts`: judgment_counts, when
    the caller has them; `items`: the study's items, to check the fit against."""
    if study.kind not in SCALES:
        return None, True
    fingerprint = fit_fingerprint(study, counts)
    try:
        found = cache.get(_key(study.pk, fingerprint))
    except REDIS_ERRORS as exc:  # Redis down: no option column, never broken
        redis_unavailable("Dawid-Skene fit cache", exc)
        return None, False
    except Exception:  # an unreadable value (another version's class): a miss
        found = None
    if found is not None and _usable(found, study, fingerprint, items):
        return found, True
    try:
        queue = cache.add(f"dashboards:dawid-skene-refit:{study.pk}:{fingerprint}", 1,
                          REFIT_LOCK_SECONDS)  # fmt: skip
    except REDIS_ERRORS as exc:
        redis_unavailable("Dawid-Skene refit lock", exc)
        queue = False
    if queue:
        try:  # by name: evalhub.dashboards.tasks imports this module
            current_app.send_task(REFIT_TASK, args=[study.pk], queue=CeleryQueue.DEFAULT.value)
        except Exception:  # a broker outage must not take the dashboards down
            log.exception("study %s: could not queue a Dawid-Skene refit", study.slug)
    return None, False


def _shares(classes: NDArray, names: tuple[str, ...]) -> dict[str, float]:
    counts = np.bincount(classes.astype(np.intp), minlength=len(names))
    total = max(int(counts.sum()), 1)
    return {name: counts[c] / total for c, name in enumerate(names)}


def aggregation_block(
    study: Study, items: ItemTable, in_scope: NDArray, counts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """{"method", "current" (the Dawid-Skene option is for the data shown), "rows"}: per
    baseline (pairwise) or model (Fail / Pass / Excellent), over the in-scope items with
    human verdicts, the shares of per-item majority votes, of the reliability-weighted
    labels (the default) and, when its fit is current, of Dawid-Skene labels (else None:
    "updating"). Rows are empty for other kinds of study."""
    block: dict[str, Any] = {
        "method": "reliability-weighted: majority of unflagged raters, splits by one-coin "
                  "Dawid-Skene", "option": "Dawid-Skene (crowd-kit)", "current": True,
        "rows": [],
    }  # fmt: skip
    quality = crowd_quality(study)
    if quality is None or not quality.data.item.size:
        return block
    _, names, tie = SCALES[study.kind]
    data = quality.data
    pos = items.index_of(data.item)
    known = (pos < items.ids.size) & (items.ids[np.minimum(pos, items.ids.size - 1)] == data.item)
    keep = np.zeros(data.item.size, dtype=bool)
    keep[known] = in_scope[pos[known]]
    majority = majority_vote(pos[keep], data.label[keep], items.ids.size, 3, tie_class=tie)
    weighted = item_aggregate(study, quality, items.ids).label
    fit, current = reliability_fit(study, counts, items)
    block["current"] = current
    ds_label = np.full(items.ids.size, -1)
    if fit is not None and fit.item_ids.size:
        ds_label[items.index_of(fit.item_ids)] = fit.label
    judged = np.zeros(items.ids.size, dtype=bool)
    judged[pos[keep]] = True
    key = items.baseline_model if study.kind == Study.Kind.PAIRWISE else items.target_model
    key_name = "baseline" if study.kind == Study.Kind.PAIRWISE else "model"
    for value in np.unique(key[judged]).tolist():
        mine = judged & (key == value)
        voted = majority[mine]
        block["rows"].append({
            key_name: value,
            "items": int(mine.sum()),
            "majority": _shares(voted[np.isfinite(voted)], names),
            "reliability_weighted": _shares(weighted[mine][weighted[mine] >= 0], names),
            "dawid_skene": _shares(ds_label[mine][ds_label[mine] >= 0], names)
            if fit is not None else None,
        })  # fmt: skip
    return jsonable(block)
