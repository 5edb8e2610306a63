"""The one-coin Dawid-Skene fit behind the reliability-weighted aggregate and the raters'
spam test (evalhub.stats.one_coin), cached by the fingerprint of the data it was fitted on.

A cached fit is used only when it carries that fingerprint and this study's id, its
arrays agree in shape, and every item and rater in it is one of the study's judged ones;
anything else under the key (another deployment's fit on a shared Redis, an old format) is
ignored and the fit is made again. The fit takes about 0.2 s at 100,000 judgments, so a
page never shows an older fit beside newer data: it fits on the spot instead.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from numpy.typing import NDArray

from evalhub.cache_redis import REDIS_ERRORS, redis_unavailable
from evalhub.dashboards.selectors.frames import LLM_PREFIX, array_agg, as_list, counted_judgments
from evalhub.stats.one_coin import OneCoinResult, one_coin_dawid_skene
from evalhub.studies.models import Judgment, Study

log = logging.getLogger(__name__)

FORMAT = "one-coin-v1"
FIT_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class CrowdFit:
    """A one-coin fit of one study's valid human verdicts (`fit`: items and raters by
    id), with the study and data fingerprint it belongs to."""

    format: str
    study_id: int
    fingerprint: str
    fit: OneCoinResult


# Classes 0..2 of each scale, their names in the results, and the tie class.
SCALES: dict[str, tuple[dict[str, int], tuple[str, ...], int | None]] = {
    Study.Kind.PAIRWISE: ({"baseline": 0, "tie": 1, "target": 2}, ("loss", "tie", "win"), 1),
    Study.Kind.ABSOLUTE: ({"fail": 0, "pass": 1, "excellent": 2}, ("fail", "pass", "excellent"),
                          None),
}  # fmt: skip


def verdicts_q(study: Study) -> Q:
    """The study's human verdicts that count in results, on its scale."""
    classes = SCALES[study.kind][0]
    return counted_judgments(Q(item__study=study, rater__isnull=False, verdict__in=classes)) & ~Q(
        judge_group__startswith=LLM_PREFIX
    )


@dataclass(frozen=True)
class VerdictArrays:
    """The valid human verdicts a fit is made from: one entry per judgment, by ids, with
    the raw choice ("A" is the left answer) and time on task (NaN: unknown)."""

    item: NDArray[np.int64]
    rater: NDArray[np.int64]
    label: NDArray[np.int64]
    raw_choice: NDArray[np.str_]
    time_ms: NDArray[np.float64]


def _key(study_id: int, fingerprint: str) -> str:
    return f"dashboards:crowd-fit:{FORMAT}:{study_id}:{fingerprint}"


def fit_is_valid(found: Any, study_id: int, fingerprint: str, data: VerdictArrays) -> bool:
    """Whether a cached value is a fit of exactly this study's data (see the module)."""
    try:
        if not isinstance(found, CrowdFit) or found.format != FORMAT:
            return False
        if found.study_id != study_id or found.fingerprint != fingerprint:
            return False
        fit = found.fit
        if fit.proba.shape != (fit.items.size, 3) or fit.skill.shape != fit.raters.shape:
            return False
        items, raters = np.unique(data.item), np.unique(data.rater)
        return bool(np.array_equal(fit.items, items) and np.array_equal(fit.raters, raters))
    except Exception:  # whatever the cache holds, a bad value is a miss, never a 500
        log.warning("study %s: an unusable crowd fit under its key, fitted again", study_id)
        return False


def data_fingerprint(data: VerdictArrays) -> str:
    """A hash of the verdicts themselves (ids and classes, in id order)."""
    digest = hashlib.blake2b(digest_size=16)
    for values in (data.item, data.rater, data.label):
        digest.update(np.ascontiguousarray(values, dtype=np.int64).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def valid_verdicts(study: Study) -> VerdictArrays:
    """The study's verdicts that count (human raters, no checks, gold or excluded ones),
    as classes 0..2 of its scale, in judgment id order."""
    classes = SCALES[study.kind][0]
    found = {
        k.removeprefix("all_"): as_list(v)
        for k, v in Judgment.objects.filter(verdicts_q(study))
        .aggregate(
            all_id=array_agg("id", ordered=True),
            all_item=array_agg("item_id", ordered=True),
            all_rater=array_agg("rater_id", ordered=True),
            all_verdict=array_agg("verdict", ordered=True),
            all_raw_choice=array_agg("raw_choice", ordered=True),
            all_time_ms=array_agg(Coalesce("time_on_task_ms", Value(-1)), ordered=True),
        )
        .items()
    }
    order = np.argsort(np.array(found["id"], dtype=np.int64), kind="stable")  # SQLite
    names, codes = np.unique(np.array(found["verdict"], dtype=str), return_inverse=True)
    label = np.array([classes[str(v)] for v in names] or [0], dtype=np.int64)[codes.reshape(-1)]
    time_ms = np.array(found["time_ms"], dtype=np.float64)[order]
    return VerdictArrays(
        item=np.array(found["item"], dtype=np.int64)[order],
        rater=np.array(found["rater"], dtype=np.int64)[order],
        label=label[order] if label.size else label,
        raw_choice=np.array(found["raw_choice"], dtype=str)[order],
        time_ms=np.where(time_ms < 0, np.nan, time_ms),
    )


def crowd_fit(study: Study, data: VerdictArrays) -> OneCoinResult:
    """The study's one-coin fit of `data` (see valid_verdicts): cached and valid, or
    fitted now and cached."""
    fingerprint = data_fingerprint(data)
    key = _key(study.pk, fingerprint)
    try:
        found = cache.get(key)
    except REDIS_ERRORS as exc:
        redis_unavailable("crowd fit cache", exc)
        found = None
    except Exception:  # an unpicklable value from another version: a miss
        log.warning("study %s: an unreadable crowd fit under its key", study.slug)
        found = None
    if found is not None and fit_is_valid(found, study.pk, fingerprint, data):
        return found.fit
    fit = one_coin_dawid_skene(data.item, data.rater, data.label, n_classes=3)
    try:
        cache.set(key, CrowdFit(FORMAT, study.pk, fingerprint, fit), FIT_TTL_SECONDS)
    except REDIS_ERRORS as exc:  # the fit is still right, only not kept
        redis_unavailable("crowd fit cache", exc)
    return fit
