"""The one-coin Dawid-Skene fits behind the raters' spam test and the reliability-weighted
aggregate (evalhub.stats.one_coin), and the valid human verdicts they are made from.

They are a shared fit (evalhub.dashboards.one_coin_fit, kind ONE_COIN_KIND): a worker
fits them once per fingerprint of the study's verdicts, rules and gold prompts and stores
them in PostgreSQL together with the flags made from them (the spam test's odds and every
test's evidence), so a web request only reads them (the fitting and the spam odds at 100,000
judgments stay off the request path) and a Redis flush loses nothing. A stored result is
used only when it is exactly a fit of the study's current verdicts (`stored_crowd_fit`):
anything else is no fit, never a 500 or a wrong number.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from numpy.typing import NDArray

from evalhub.dashboards.selectors.frames import LLM_PREFIX, array_agg, as_list, counted_judgments
from evalhub.stats.crowd_aggregate import aggregate_judgments
from evalhub.stats.crowd_flags import CrowdFlags
from evalhub.stats.one_coin import OneCoinResult
from evalhub.studies.models import Judgment, Study

log = logging.getLogger(__name__)

ONE_COIN_KIND = "one_coin"  # the shared fit's kind (evalhub.fits)
FORMAT = "one-coin-v3"  # v3: the flags (spam odds and evidence) are stored with the fits


@dataclass(frozen=True)
class CrowdFit:
    """A worker's one-coin fits of one study's valid human verdicts, by ids: `fit` of
    every verdict (the spam test and the raters' reliability), `flagged`: the raters the
    flags held back when it was made, and `aggregate_fit`: the fit the reliability-weighted
    aggregate reads (of the judgments `aggregate_judgments` keeps). `flags`: every test's
    flags and evidence per rater (sorted ids) as the worker made them with `fit` (the spam
    test's odds included), so a page never recomputes them."""

    fit: OneCoinResult
    flagged: NDArray[np.int64]
    aggregate_fit: OneCoinResult
    flags: CrowdFlags


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


def _fit_json(fit: OneCoinResult) -> dict[str, Any]:
    return {"items": fit.items.tolist(), "label": fit.label.tolist(),
            "proba": fit.proba.tolist(), "raters": fit.raters.tolist(),
            "skill": fit.skill.tolist(), "priors": fit.priors.tolist(),
            "iterations": fit.iterations}  # fmt: skip


_FLAG_INTS = ("left", "sided", "gold_right", "gold", "judged")
_FLAG_FLOATS = ("median_ms", "spam_odds", "agreement")  # NaN stored as null (jsonb has no NaN)


def _flags_json(flags: CrowdFlags) -> dict[str, Any]:
    floats = {
        name: [None if v != v else v for v in getattr(flags, name).tolist()]  # NaN != NaN
        for name in _FLAG_FLOATS
    }
    return {"flags": {name: hit.tolist() for name, hit in flags.flags.items()},
            "evidence": flags.evidence,
            **{name: getattr(flags, name).tolist() for name in _FLAG_INTS}, **floats}  # fmt: skip


def _flags_from(found: dict[str, Any], n_raters: int) -> CrowdFlags | None:
    flags = CrowdFlags(
        flags={name: np.asarray(hit, dtype=bool) for name, hit in found["flags"].items()},
        evidence={name: list(texts) for name, texts in found["evidence"].items()},
        **{name: np.asarray(found[name], dtype=np.int64) for name in _FLAG_INTS},
        **{name: np.asarray([np.nan if v is None else v for v in found[name]], dtype=np.float64)
           for name in _FLAG_FLOATS},
    )  # fmt: skip
    arrays = [*flags.flags.values(), *(getattr(flags, n) for n in _FLAG_INTS + _FLAG_FLOATS)]
    if any(a.shape != (n_raters,) for a in arrays) or set(flags.flags) != set(flags.evidence):
        return None
    if any(len(texts) != n_raters for texts in flags.evidence.values()):
        return None
    return flags


def crowd_fit_result(study: Study, data: VerdictArrays, fit: CrowdFit) -> dict[str, Any]:
    """The JSON the shared fit stores: the fits, the flags, and what they were made from."""
    return {"format": FORMAT, "study": study.pk, "verdicts": data_fingerprint(data),
            "fit": _fit_json(fit.fit), "flagged": fit.flagged.tolist(),
            "aggregate_fit": _fit_json(fit.aggregate_fit),
            "flags": _flags_json(fit.flags)}  # fmt: skip


def _fit_from(found: dict[str, Any], items: NDArray, raters: NDArray) -> OneCoinResult | None:
    fit = OneCoinResult(
        items=np.asarray(found["items"], dtype=np.int64),
        label=np.asarray(found["label"], dtype=np.int64),
        proba=np.asarray(found["proba"], dtype=np.float64),
        raters=np.asarray(found["raters"], dtype=np.int64),
        skill=np.asarray(found["skill"], dtype=np.float64),
        priors=np.asarray(found["priors"], dtype=np.float64),
        iterations=int(found["iterations"]),
    )
    n = fit.items.size
    if fit.proba.shape != (n, 3) or fit.label.shape != (n,) or fit.priors.shape != (3,):
        return None
    if fit.skill.shape != fit.raters.shape or not np.isfinite(fit.proba).all():
        return None
    if not (np.array_equal(fit.items, items) and np.array_equal(fit.raters, raters)):
        return None
    return fit


def stored_crowd_fit(result: Any, study: Study, data: VerdictArrays) -> CrowdFit | None:
    """The stored result as fits of exactly `data` (this study's current valid verdicts):
    its format, study and verdict hash match, and its items and raters are the judged
    ones; else None, whatever the row holds."""
    try:
        if result.get("format") != FORMAT or int(result["study"]) != study.pk:
            return None
        if result["verdicts"] != data_fingerprint(data):
            return None
        rater_ids = np.unique(data.rater)
        fit = _fit_from(result["fit"], np.unique(data.item), rater_ids)
        flagged = np.asarray(result["flagged"], dtype=np.int64)
        flags = _flags_from(result["flags"], int(rater_ids.size))
        if fit is None or flagged.ndim != 1 or flags is None:
            return None
        if not np.array_equal(rater_ids[flags.flagged], flagged):
            return None
        use = aggregate_judgments(data.item, data.rater, flagged)
        aggregate = _fit_from(
            result["aggregate_fit"], np.unique(data.item[use]), np.unique(data.rater[use])
        )
        return None if aggregate is None else CrowdFit(fit, flagged, aggregate, flags)
    except Exception:  # whatever a row holds, a bad value is no fit, never a 500
        log.warning("study %s: an unusable one-coin fit was stored; it is ignored", study.pk)
        return None
