"""Agreement between judge groups on shared items.

Metrics: exact agreement, LIMA's tie-discounted accuracy (pairwise only), Cohen's kappa and
Krippendorff's alpha (nominal for pairwise verdicts and Fail/Pass/Excellent labels, ordinal
for Likert scores). Alpha is computed from the coincidence matrix, so it handles any number
of judgments per item and missing judgments.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalhub.stats.bootstrap import coded_values

Scale = Literal["pairwise", "label", "likert"]
AlphaLevel = Literal["nominal", "ordinal", "interval"]

SCALE_CODES: dict[str, tuple[int, ...]] = {
    "pairwise": (-1, 0, 1),
    "label": (0, 1, 2),
    "likert": (1, 2, 3, 4, 5, 6),
}
SCALE_ALPHA_LEVEL: dict[str, AlphaLevel] = {
    "pairwise": "nominal",
    "label": "nominal",
    "likert": "ordinal",
}


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement of two judge groups over `n_items` shared items (all values in [-1, 1]).

    tie_discounted_accuracy is None unless scale == "pairwise". Kappa and alpha are NaN where
    undefined (no variation in the data).
    """

    n_items: int
    percent_agreement: float
    tie_discounted_accuracy: float | None
    cohen_kappa: float
    krippendorff_alpha: float
    alpha_level: AlphaLevel
    scale: Scale


@dataclass(frozen=True, slots=True)
class AgreementMatrix:
    """Every metric for every pair of groups; arrays are (n_groups, n_groups), symmetric.

    Off the diagonal, group g vs h pairs every judgment of g with every judgment of h on the
    same item, each item weighing 1. On the diagonal, a group is compared with itself through
    pairs of its distinct judgments on items it judged at least twice (LIMA's crowd-crowd
    figure); kappa there uses pooled marginals (Scott's pi / Fleiss style).
    """

    groups: tuple[Hashable, ...]
    scale: Scale
    alpha_level: AlphaLevel
    n_items: NDArray[np.int64]
    percent_agreement: NDArray[np.float64]
    tie_discounted_accuracy: NDArray[np.float64] | None
    cohen_kappa: NDArray[np.float64]
    krippendorff_alpha: NDArray[np.float64]

    def pair(self, a: Hashable, b: Hashable) -> Agreement:
        """The metrics of groups `a` and `b` as an Agreement."""
        i, j = self.groups.index(a), self.groups.index(b)
        tda = self.tie_discounted_accuracy
        return Agreement(
            n_items=int(self.n_items[i, j]),
            percent_agreement=float(self.percent_agreement[i, j]),
            tie_discounted_accuracy=None if tda is None else float(tda[i, j]),
            cohen_kappa=float(self.cohen_kappa[i, j]),
            krippendorff_alpha=float(self.krippendorff_alpha[i, j]),
            alpha_level=self.alpha_level,
            scale=self.scale,
        )


def _difference_matrix(
    level: AlphaLevel, totals: NDArray[np.float64], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Krippendorff's squared difference delta^2 between categories (K, K)."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ordinal":
        # delta_ck = sum of n_g for g from c to k, minus half of n_c and n_k
        cum = np.cumsum(totals)
        ranks = np.arange(values.size)
        lo, hi = np.minimum.outer(ranks, ranks), np.maximum.outer(ranks, ranks)
        between = cum[hi] - cum[lo] + totals[lo]
        return (between - (totals[:, None] + totals[None, :]) / 2.0) ** 2
    raise ValueError(f"unknown alpha level {level!r}")


def krippendorff_alpha_from_counts(
    unit_counts: ArrayLike, *, level: AlphaLevel = "nominal", values: ArrayLike | None = None
) -> float:
    """Krippendorff's alpha from a (units, categories) matrix of value counts per unit.

    unit_counts[u, c] = how many judgments gave unit u the category c. Units with fewer than
    two judgments are not pairable and drop out. `values` are the numeric category values
    (needed for "interval"; default 0..K-1). Returns NaN when alpha is undefined.
    """
    counts = np.asarray(unit_counts, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError("unit_counts must be (units, categories)")
    cat_values = (
        np.arange(counts.shape[1], dtype=np.float64)
        if values is None
        else np.asarray(values, dtype=np.float64)
    )
    per_unit = counts.sum(axis=1)
    counts = counts[per_unit >= 2]
    per_unit = per_unit[per_unit >= 2]
    if counts.shape[0] == 0:
        return float("nan")
    # coincidence matrix: o_ck = sum_u (n_uc n_uk - [c == k] n_uc) / (m_u - 1)
    scaled = counts / (per_unit - 1.0)[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    totals = coincidence.sum(axis=1)
    n = totals.sum()
    delta = _difference_matrix(level, totals, cat_values)
    expected = float(totals @ delta @ totals)
    if n <= 1 or expected <= 0.0:
        return float("nan")
    return float(1.0 - (n - 1.0) * float(np.sum(coincidence * delta)) / expected)


def krippendorff_alpha(
    reliability_data: ArrayLike,
    *,
    level: AlphaLevel = "nominal",
    values: ArrayLike | None = None,
) -> float:
    """Krippendorff's alpha from a (raters, units) array with NaN for missing judgments.

    `values` lists the possible values (default: the distinct values seen); each must be one
    of them. Ordinal alpha ranks values in sorted order; interval alpha uses their distances.
    """
    data = np.asarray(reliability_data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("reliability_data must be (raters, units)")
    seen = ~np.isnan(data)
    cat_values = np.unique(data[seen]) if values is None else np.unique(np.asarray(values))
    cat_values = cat_values.astype(np.float64)
    codes = np.searchsorted(cat_values, data[seen])
    if np.any(codes >= cat_values.size) or np.any(cat_values[codes] != data[seen]):
        raise ValueError("reliability_data holds a value outside `values`")
    units = np.nonzero(seen)[1]
    flat = units * cat_values.size + codes
    counts = np.bincount(flat, minlength=data.shape[1] * cat_values.size)
    return krippendorff_alpha_from_counts(
        counts.reshape(data.shape[1], cat_values.size), level=level, values=cat_values
    )


def _confusion_metrics(
    confusion: NDArray[np.float64], scale: Scale
) -> tuple[float, float | None, float]:
    """(percent agreement, tie-discounted accuracy, Cohen's kappa) of a weighted confusion."""
    total = confusion.sum()
    if total <= 0:
        nan = float("nan")
        return nan, (nan if scale == "pairwise" else None), nan
    # divide last, so that perfect agreement is exactly 1.0
    observed = float(np.trace(confusion) / total)
    expected = float((confusion.sum(axis=1) @ confusion.sum(axis=0)) / (total * total))
    kappa = float("nan") if expected >= 1.0 - 1e-12 else (observed - expected) / (1.0 - expected)
    tda = None
    if scale == "pairwise":
        # 1 for the same answer, 0.5 when exactly one said tie, 0 for win vs loss
        codes = np.array(SCALE_CODES["pairwise"])
        credit = 1.0 - np.abs(np.subtract.outer(codes, codes)) / 2.0
        tda = float(np.sum(confusion * credit) / total)
    return observed, tda, kappa


def tie_discounted_agreement(a: ArrayLike, b: ArrayLike) -> float:
    """LIMA's agreement of two aligned pairwise verdict arrays (codes -1/0/1), in [0, 1]."""
    result = judge_agreement(a, b, scale="pairwise")
    assert result.tie_discounted_accuracy is not None
    return result.tie_discounted_accuracy


def cohen_kappa(a: ArrayLike, b: ArrayLike, *, scale: Scale) -> float:
    """Cohen's kappa of two aligned arrays of codes on `scale` (NaN if undefined)."""
    return judge_agreement(a, b, scale=scale).cohen_kappa


def judge_agreement(a: ArrayLike, b: ArrayLike, *, scale: Scale) -> Agreement:
    """All agreement metrics of two aligned arrays: item i judged a[i] by one, b[i] by other."""
    codes_a = coded_values(a, SCALE_CODES[scale], "a")
    codes_b = coded_values(b, SCALE_CODES[scale], "b")
    if codes_a.shape != codes_b.shape:
        raise ValueError("a and b must be aligned arrays of the same length")
    k = len(SCALE_CODES[scale])
    onehot_a, onehot_b = np.eye(k)[codes_a], np.eye(k)[codes_b]
    confusion = onehot_a.T @ onehot_b
    observed, tda, kappa = _confusion_metrics(confusion, scale)
    level = SCALE_ALPHA_LEVEL[scale]
    alpha = krippendorff_alpha_from_counts(
        onehot_a + onehot_b, level=level, values=np.array(SCALE_CODES[scale])
    )
    return Agreement(int(codes_a.size), observed, tda, kappa, alpha, level, scale)


def agreement_matrix(
    item_ids: ArrayLike,
    group_ids: ArrayLike,
    values: ArrayLike,
    *,
    scale: Scale,
    categories: tuple[int, ...] | None = None,
    level: AlphaLevel | None = None,
) -> AgreementMatrix:
    """Agreement metrics for all pairs of judge groups, from long-format judgments.

    item_ids, group_ids, values: aligned (n,) arrays, one row per judgment (an item may have
    several judgments per group). Groups are sorted. See AgreementMatrix for pairing rules.
    categories and level: an instrument's own codes (in its order) and measurement level,
    instead of the scale's."""
    item_arr, group_arr = np.asarray(item_ids), np.asarray(group_ids)
    allowed = categories or SCALE_CODES[scale]
    codes = coded_values(values, allowed, "values")
    if item_arr.shape != codes.shape or group_arr.shape != codes.shape:
        raise ValueError("item_ids, group_ids and values must be aligned 1-d arrays")
    _, items = np.unique(item_arr, return_inverse=True)
    groups, gcodes = np.unique(group_arr, return_inverse=True)
    n_items, n_groups, k = int(items.max(initial=-1)) + 1, groups.size, len(allowed)
    flat = (gcodes.reshape(-1) * n_items + items.reshape(-1)) * k + codes
    counts = np.bincount(flat, minlength=n_groups * n_items * k).astype(np.float64)
    counts = counts.reshape(n_groups, n_items, k)  # (group, item, category)
    per_item = counts.sum(axis=2)
    level = level or SCALE_ALPHA_LEVEL[scale]
    shape = (n_groups, n_groups)
    shared = np.zeros(shape, dtype=np.int64)
    agree, tda_m, kappa_m, alpha_m = (np.full(shape, np.nan) for _ in range(4))
    for g in range(n_groups):
        for h in range(g, n_groups):
            if g == h:
                keep = per_item[g] >= 2
                c, m = counts[g, keep], per_item[g, keep]
                confusion = (c / (m * (m - 1.0))[:, None]).T @ c - np.diag(
                    (c / (m * (m - 1.0))[:, None]).sum(axis=0)
                )
                pooled = c
            else:
                keep = (per_item[g] > 0) & (per_item[h] > 0)
                cg, ch = counts[g, keep], counts[h, keep]
                weight = 1.0 / (per_item[g, keep] * per_item[h, keep])
                confusion = (cg * weight[:, None]).T @ ch
                pooled = cg + ch
            observed, tda, kappa = _confusion_metrics(confusion, scale)
            alpha = krippendorff_alpha_from_counts(
                pooled, level=level, values=np.array(allowed, dtype=np.float64)
            )
            for i, j in ((g, h), (h, g)):
                shared[i, j] = int(keep.sum())
                agree[i, j], kappa_m[i, j], alpha_m[i, j] = observed, kappa, alpha
                tda_m[i, j] = np.nan if tda is None else tda
    arrays = (shared, agree, tda_m, kappa_m, alpha_m)
    for arr in arrays:
        arr.setflags(write=False)
    return AgreementMatrix(
        groups=tuple(g.item() for g in groups),
        scale=scale,
        alpha_level=level,
        n_items=shared,
        percent_agreement=agree,
        tie_discounted_accuracy=tda_m if scale == "pairwise" else None,
        cohen_kappa=kappa_m,
        krippendorff_alpha=alpha_m,
    )
