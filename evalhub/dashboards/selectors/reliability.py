"""Human verdicts aggregated per item, beside the per-judgment shares: the majority vote,
the reliability-weighted aggregate (the default, evalhub.dashboards.selectors.crowd_quality)
and, as a named option, Dawid-Skene (crowd-kit).

A Dawid-Skene fit takes seconds on a large study (crowd-kit's EM in pandas), longer than a
cold dashboard may, so it is a shared fit (evalhub.dashboards.dawid_skene_fit): made by a
worker once per fingerprint of the judgments it reads and stored in PostgreSQL, so a Redis
restart loses nothing. A page uses the fit only when it is for the current data and this
study's items; otherwise its Dawid-Skene column says "updating" while the refit runs. An
older fit is never shown beside newer data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count, Max, Q, Sum
from numpy.typing import NDArray

from evalhub.dashboards.selectors.crowd_fit import SCALES, verdicts_q
from evalhub.dashboards.selectors.crowd_quality import CURRENT, crowd_quality, item_aggregate
from evalhub.dashboards.selectors.frames import ItemTable, array_agg, as_list
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.fits.services import shared_fit_use
from evalhub.stats.dawid_skene import dawid_skene, majority_vote
from evalhub.studies.models import Judgment, Study

DAWID_SKENE_KIND = "dawid_skene"  # the shared fit's kind (evalhub.fits)
WEIGHTED_METHOD = (
    "reliability-weighted: majority of unflagged raters, splits by one-coin Dawid-Skene"
)
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
        return {**found, "valid": 0, "last": None, "id_sum": None}
    return Judgment.objects.filter(item__study=study).aggregate(
        valid=Count("id", filter=_verdicts(study)),
        last=Max("id", filter=_verdicts(study)),
        # with the count and last id: a swap of excluded raters changes the fingerprint
        id_sum=Sum("id", filter=_verdicts(study)),
        **excluded,
    )


def excluded_counts(study: Study, counts: dict[str, Any] | None = None) -> dict[str, int]:
    """{"raters", "judgments"}: excluded raters' judgments left out of every result."""
    counts = counts or judgment_counts(study)
    return {"raters": counts["excluded_raters"], "judgments": counts["excluded_judgments"]}


def fit_fingerprint(study: Study, counts: dict[str, Any] | None = None) -> str:
    """What the study's fit depends on (see judgment_counts), as a cache key part."""
    counts = counts or judgment_counts(study)
    return f"{counts['valid']}:{counts['last']}:{counts['id_sum']}:{counts['excluded_judgments']}"


@dataclass(frozen=True)
class ReliabilityFit:
    """A Dawid-Skene fit of the study's valid human verdicts, by ids: `item_ids` with their
    `label` (class) and `proba`, `rater_ids` with their `reliability`; `study_id` and
    `fingerprint`: what it was fitted on."""

    fingerprint: str
    item_ids: NDArray[np.int64]
    label: NDArray[np.int64]
    proba: NDArray[np.float64]
    rater_ids: NDArray[np.int64]
    reliability: NDArray[np.float64]
    study_id: int = 0

    def as_result(self) -> dict[str, Any]:
        """The JSON the shared fit stores."""
        return {"study": self.study_id, "fingerprint": self.fingerprint,
                "item_ids": self.item_ids.tolist(), "label": self.label.tolist(),
                "proba": self.proba.tolist(), "rater_ids": self.rater_ids.tolist(),
                "reliability": self.reliability.tolist()}  # fmt: skip


def reliability_fit_compute(study: Study) -> ReliabilityFit | None:
    """Fit Dawid-Skene to the study's valid human verdicts now (the worker's side of the
    shared fit). None for kinds of study without a scale for it."""
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
    return ReliabilityFit(fingerprint, fitted.items, fitted.label, fitted.proba, fitted.raters,
                          fitted.reliability, study.pk)  # fmt: skip


def _from_result(result: Any, study: Study, items: ItemTable | None) -> ReliabilityFit | None:
    """The stored fit, when it is a Dawid-Skene fit of this study's items; else None."""
    try:
        fit = ReliabilityFit(
            str(result["fingerprint"]),
            np.asarray(result["item_ids"], dtype=np.int64),
            np.asarray(result["label"], dtype=np.int64),
            np.asarray(result["proba"], dtype=np.float64),
            np.asarray(result["rater_ids"], dtype=np.int64),
            np.asarray(result["reliability"], dtype=np.float64),
            int(result["study"]),
        )
        n = fit.item_ids.size
        if fit.study_id != study.pk or fit.label.shape != (n,) or fit.proba.shape != (n, 3):
            return None
        if fit.reliability.shape != fit.rater_ids.shape:
            return None
        if items is not None and n:
            pos = np.minimum(items.index_of(fit.item_ids), items.ids.size - 1)
            if not (items.ids.size and (items.ids[pos] == fit.item_ids).all()):
                return None
        return fit
    except Exception:  # whatever a row holds, a bad value is no fit, never a 500
        return None


def reliability_fit(
    study: Study, items: ItemTable | None = None
) -> tuple[ReliabilityFit | None, bool]:
    """The study's Dawid-Skene fit for its current data and True, or (None, False) while
    a worker fits it (the shared fit is queued once per fingerprint). `items`: the study's
    items, to check the fit against."""
    if study.kind not in SCALES:
        return None, True
    answer = shared_fit_use(kind=DAWID_SKENE_KIND, inputs={"study": study.pk})
    if not answer.current or answer.result is None:
        return None, False
    fit = _from_result(answer.result, study, items)
    return fit, fit is not None


def _shares(classes: NDArray, names: tuple[str, ...]) -> dict[str, float]:
    counts = np.bincount(classes.astype(np.intp), minlength=len(names))
    total = max(int(counts.sum()), 1)
    return {name: counts[c] / total for c, name in enumerate(names)}


def aggregation_block(study: Study, items: ItemTable, in_scope: NDArray) -> dict[str, Any]:
    """{"method", "state", "current", "rows"}: per baseline (pairwise) or model (Fail / Pass
    / Excellent), over the in-scope items with human verdicts, the shares of per-item
    majority votes, of the reliability-weighted labels (the default) and of Dawid-Skene
    labels (the option). `state` is the default's worker fit: "current", or "updating" /
    "failed", when its shares are None and the method says so (the majority over every
    item stands in, never an older fit). `current`: the Dawid-Skene option is for the data
    shown (else its shares are None). Rows are empty for other kinds of study."""
    block: dict[str, Any] = {
        "method": WEIGHTED_METHOD, "option": "Dawid-Skene (crowd-kit)", "state": CURRENT,
        "current": True, "rows": [],
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
    aggregate = item_aggregate(study, quality, items.ids)
    block["state"] = quality.state
    if aggregate is None:
        block["method"] = f"reliability-weighted: {quality.state} (the majority vote meanwhile)"
    fit, current = reliability_fit(study, items)
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
        weighted = aggregate.label[mine] if aggregate is not None else None
        block["rows"].append({
            key_name: value,
            "items": int(mine.sum()),
            "majority": _shares(voted[np.isfinite(voted)], names),
            "reliability_weighted": _shares(weighted[weighted >= 0], names)
            if weighted is not None else None,
            "dawid_skene": _shares(ds_label[mine][ds_label[mine] >= 0], names)
            if fit is not None else None,
        })  # fmt: skip
    return jsonable(block)
