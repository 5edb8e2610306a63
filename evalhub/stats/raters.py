"""Per-rater quality statistics from judgment arrays, with no loop over judgments.

Every function takes one entry per judgment, with `rater` as codes 0..n_raters-1, and
returns one entry per rater (NaN where a rater has nothing to measure). Verdict classes are
0..k-1 (pairwise: baseline 0, tie 1, target 2; labels: Fail 0, Pass 1, Excellent 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

PAIRWISE_TIE = 1  # the tie class of pairwise verdicts (baseline 0, tie 1, target 2)


def _per_rater_mean(
    rater: NDArray[np.intp], values: NDArray[np.float64], n_raters: int
) -> NDArray[np.float64]:
    ok = np.isfinite(values)
    total = np.bincount(rater[ok], weights=values[ok], minlength=n_raters)
    count = np.bincount(rater[ok], minlength=n_raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def per_rater_quantile(
    rater: ArrayLike, values: ArrayLike, n_raters: int, q: float
) -> NDArray[np.float64]:
    """Each rater's q-quantile of `values` (NaN ignored), interpolated linearly between order
    statistics as numpy.quantile does; NaN for a rater with no values."""
    rater, values = np.asarray(rater, dtype=np.intp), np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    rater, values = rater[ok], values[ok]
    order = np.lexsort((values, rater))
    rater, values = rater[order], values[order]
    count = np.bincount(rater, minlength=n_raters)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    has = count > 0
    pos = start + q * np.maximum(count - 1, 0)
    lo, hi = np.floor(pos).astype(np.intp), np.ceil(pos).astype(np.intp)
    frac = pos - lo
    out = np.full(n_raters, np.nan)
    if values.size:
        lo_v, hi_v = (
            values[np.minimum(lo, values.size - 1)],
            values[np.minimum(hi, values.size - 1)],
        )
        out[has] = (lo_v + (hi_v - lo_v) * frac)[has]
    return out


def longest_run(rater: ArrayLike, sequence: ArrayLike, choice: ArrayLike, n_raters: int) -> NDArray:
    """Each rater's longest run of the same `choice`, in the order of `sequence` (e.g. the
    judgment id); 0 for a rater with no judgments."""
    rater = np.asarray(rater, dtype=np.intp)
    order = np.lexsort((np.asarray(sequence), rater))
    r, c = rater[order], np.asarray(choice)[order]
    out = np.zeros(n_raters, dtype=np.int64)
    if not r.size:
        return out
    starts = np.concatenate([[True], (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
    run_id = np.cumsum(starts) - 1
    lengths = np.bincount(run_id)
    np.maximum.at(out, r[starts], lengths)
    return out


@dataclass(frozen=True)
class MajorityAgreement:
    """Each rater's agreement with the leave-one-out majority of the other raters on the
    same items: plain (same class) and, for pairwise, LIMA's tie-discounted (1 for the same
    verdict, 0.5 when exactly one of the two is a tie, else 0). `compared`: judgments that
    had other raters to compare with."""

    plain: NDArray[np.float64]
    tie_discounted: NDArray[np.float64]
    compared: NDArray[np.int64]


def leave_one_out_majority(
    item: ArrayLike, verdict: ArrayLike, n_classes: int, *, tie_class: int | None
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Per judgment: the majority class of the other judgments on its item (NaN without a
    majority) and whether there were others. A split top among the others is a tie when
    the scale has one (`tie_class`), else no majority."""
    item, verdict = np.asarray(item, dtype=np.intp), np.asarray(verdict, dtype=np.intp)
    n_items = int(item.max()) + 1 if item.size else 0
    counts = np.bincount(item * n_classes + verdict, minlength=n_items * n_classes)
    counts = counts.reshape(n_items, n_classes)
    others = counts[item].copy()
    others[np.arange(item.size), verdict] -= 1
    top = others.max(axis=1) if item.size else np.zeros(0, dtype=np.int64)
    has_others = others.sum(axis=1) > 0
    split = (others == top[:, None]).sum(axis=1) > 1
    majority = others.argmax(axis=1).astype(np.float64)
    majority[split] = np.nan if tie_class is None else tie_class
    majority[~has_others] = np.nan
    return majority, has_others


def majority_agreement(
    rater: ArrayLike, item: ArrayLike, verdict: ArrayLike, n_raters: int, n_classes: int,
    *, tie_class: int | None,
) -> MajorityAgreement:  # fmt: skip
    """See MajorityAgreement; `verdict` holds classes 0..n_classes-1 of real judgments."""
    rater, verdict = np.asarray(rater, dtype=np.intp), np.asarray(verdict, dtype=np.intp)
    majority, _ = leave_one_out_majority(item, verdict, n_classes, tie_class=tie_class)
    known = np.isfinite(majority)
    plain = np.where(known, (verdict == majority).astype(np.float64), np.nan)
    if tie_class is None:
        tda = np.full(verdict.size, np.nan)
    else:
        one_tie = (verdict == tie_class) != (majority == tie_class)
        tda = np.where(verdict == majority, 1.0, np.where(one_tie, 0.5, 0.0))
        tda = np.where(known, tda, np.nan)
    return MajorityAgreement(
        plain=_per_rater_mean(rater, plain, n_raters),
        tie_discounted=_per_rater_mean(rater, tda, n_raters),
        compared=np.bincount(rater[known], minlength=n_raters).astype(np.int64),
    )


def agreement_with_reference(
    rater: ArrayLike, verdict: ArrayLike, reference: ArrayLike, n_raters: int
) -> NDArray[np.float64]:
    """Each rater's share of judgments equal to `reference` (per judgment; NaN: none)."""
    reference = np.asarray(reference, dtype=np.float64)
    same = np.where(np.isfinite(reference), np.asarray(verdict) == reference, np.nan)
    return _per_rater_mean(np.asarray(rater, dtype=np.intp), same.astype(np.float64), n_raters)


def reference_by_item(
    item: ArrayLike, verdict: ArrayLike, n_items: int, *, signed: bool
) -> NDArray:
    """One reference verdict per item from several (e.g. an LLM judge's two orders): with
    `signed` (pairwise classes 0/1/2) the sign of their sum around the tie, else the
    rounded mean; NaN for items without one."""
    item, verdict = np.asarray(item, dtype=np.intp), np.asarray(verdict, dtype=np.float64)
    count = np.bincount(item, minlength=n_items)
    centred = verdict - 1 if signed else verdict
    total = np.bincount(item, weights=centred, minlength=n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.sign(total) + 1 if signed else np.round(total / count)
    return np.where(count > 0, value, np.nan)


@dataclass(frozen=True)
class RaterTable:
    """One entry per rater (index = rater code). Times in milliseconds; shares in 0..1."""

    judgments: NDArray[np.int64]
    time_median_ms: NDArray[np.float64]
    time_p10_ms: NDArray[np.float64]
    too_fast_share: NDArray[np.float64]
    checks: NDArray[np.int64]  # attention checks answered
    agreement: NDArray[np.float64]
    tie_discounted_agreement: NDArray[np.float64]
    left_share: NDArray[np.float64]
    longest_run: NDArray[np.int64]
    comments: NDArray[np.int64]


def rater_table(
    *,
    n_raters: int,
    rater: ArrayLike,
    item: ArrayLike,
    sequence: ArrayLike,
    choice: ArrayLike,
    verdict: ArrayLike,
    n_classes: int,
    tie_class: int | None,
    is_check: ArrayLike,
    time_ms: ArrayLike,
    too_fast: ArrayLike,
    chose_left: ArrayLike,
    sided: ArrayLike,
    has_comment: ArrayLike,
) -> RaterTable:
    """The rater table's columns. Per judgment: `choice` is the raw answer's code (runs),
    `verdict` its class (-1: none, e.g. a dialogue), `sided` whether it was a left/right
    choice at all and `chose_left` whether it picked the left one; attention checks count
    only as checks, never toward agreement."""
    rater = np.asarray(rater, dtype=np.intp)
    is_check = np.asarray(is_check, dtype=bool)
    verdict = np.asarray(verdict, dtype=np.intp)
    time_ms = np.asarray(time_ms, dtype=np.float64)
    real = ~is_check & (verdict >= 0)
    agree = majority_agreement(
        rater[real], np.asarray(item)[real], verdict[real], n_raters, n_classes,
        tie_class=tie_class,
    )  # fmt: skip
    sided = np.asarray(sided, dtype=bool)
    left = np.where(sided, np.asarray(chose_left, dtype=np.float64), np.nan)
    return RaterTable(
        judgments=np.bincount(rater, minlength=n_raters).astype(np.int64),
        time_median_ms=per_rater_quantile(rater, time_ms, n_raters, 0.5),
        time_p10_ms=per_rater_quantile(rater, time_ms, n_raters, 0.1),
        too_fast_share=_per_rater_mean(rater, np.asarray(too_fast, dtype=np.float64), n_raters),
        checks=np.bincount(rater[is_check], minlength=n_raters).astype(np.int64),
        agreement=agree.plain,
        tie_discounted_agreement=agree.tie_discounted,
        left_share=_per_rater_mean(rater, left, n_raters),
        longest_run=longest_run(rater, sequence, choice, n_raters),
        comments=np.bincount(
            rater, weights=np.asarray(has_comment, dtype=np.float64), minlength=n_raters
        ).astype(np.int64),
    )


# Per-study thresholds (Study.quality_rules overrides any of them). A rule only judges a
# rater with at least `min_judgments` (attention checks always do).
DEFAULT_RULES: dict[str, Any] = {
    "min_judgments": 5,
    "max_too_fast_share": 0.5,
    "min_agreement": 0.45,
    "max_left_share": 0.85,
    "max_run": 12,
    "max_attention_failures": 1,
    "min_reliability": 0.0,
}


def rater_flags(
    table: RaterTable,
    rules: dict[str, Any],
    checks_failed: NDArray[np.int64],
    reliability: NDArray[np.float64] | None = None,
) -> dict[str, NDArray[np.bool_]]:
    """Which raters each rule flags ({rule name: bool per rater}); `rules` as DEFAULT_RULES,
    `checks_failed` per rater (the rating sessions count them as they happen)."""
    r = {**DEFAULT_RULES, **rules}
    enough = table.judgments >= int(r["min_judgments"])
    with np.errstate(invalid="ignore"):
        flags = {
            "too_fast": enough & (table.too_fast_share > float(r["max_too_fast_share"])),
            "low_agreement": enough & (table.agreement < float(r["min_agreement"])),
            "position_bias": enough & (table.left_share > float(r["max_left_share"])),
            "same_choice_run": enough & (table.longest_run > int(r["max_run"])),
            "attention_checks": checks_failed >= int(r["max_attention_failures"]),
        }
        if reliability is not None and float(r["min_reliability"]) > 0:
            flags["low_reliability"] = enough & (reliability < float(r["min_reliability"]))
    return flags
