"""Fail / Pass / Excellent distributions (LIMA Section 4.3) with an interval for each share.

Labels are coded 0 = Fail, 1 = Pass, 2 = Excellent. Every share gets a Wilson score
interval (judgments treated as independent) and, when asked, a percentile bootstrap
clustered by prompt.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    Interval,
    SeedLike,
    as_generator,
    bootstrap_totals,
    check_level,
    check_rounds,
    cluster_codes,
    cluster_count_matrix,
    coded_values,
    percentile_intervals,
)

FAIL, PASS, EXCELLENT = 0, 1, 2
LABEL_CODES = (FAIL, PASS, EXCELLENT)
LABEL_NAMES = ("Fail", "Pass", "Excellent")


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, level: float = DEFAULT_LEVEL
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval bounds for successes out of n (broadcasts; n > 0).

    The set of p that a two-sided score test at 1 - level does not reject:
    centre (p + z^2/2n) / (1 + z^2/n), half-width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n).
    """
    level = check_level(level)
    k = np.asarray(successes, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    if np.any(total <= 0) or np.any(k < 0) or np.any(k > total):
        raise ValueError("need 0 <= successes <= n and n > 0")
    z = norm.ppf(0.5 + level / 2.0)
    p = k / total
    denom = 1.0 + z * z / total
    centre = (p + z * z / (2.0 * total)) / denom
    half = z * np.sqrt(p * (1.0 - p) / total + z * z / (4.0 * total * total)) / denom
    # the bounds are exactly 0 at k = 0 and 1 at k = n; pin them against float fuzz
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == total, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


@dataclass(frozen=True, slots=True)
class LabelShare:
    """One label's count and share (0..1) of the ratings, with its intervals."""

    label: str
    count: int
    share: float
    wilson: Interval
    bootstrap: Interval | None


@dataclass(frozen=True, slots=True)
class LabelDistribution:
    """Fail / Pass / Excellent shares of `n_ratings` ratings over `n_prompts` prompts."""

    n_ratings: int
    n_prompts: int
    shares: tuple[LabelShare, LabelShare, LabelShare]
    level: float

    def share(self, label: str | int) -> LabelShare:
        """The LabelShare for a label name ("Excellent") or code (2)."""
        index = LABEL_NAMES.index(label) if isinstance(label, str) else LABEL_CODES.index(label)
        return self.shares[index]


def label_distribution(
    labels: ArrayLike,
    prompt_ids: ArrayLike | None = None,
    *,
    level: float = DEFAULT_LEVEL,
    rounds: int = 0,
    seed: SeedLike = None,
) -> LabelDistribution:
    """Shares of Fail/Pass/Excellent with Wilson intervals (and bootstrap when rounds > 0).

    labels: (n,) codes 0/1/2. prompt_ids: (n,) cluster labels for the bootstrap (None: each
    rating its own prompt). rounds: 0 skips the bootstrap.
    """
    level = check_level(level)
    rounds = check_rounds(rounds, allow_zero=True)
    codes = coded_values(labels, LABEL_CODES, "labels")
    n = int(codes.size)
    if n == 0:
        raise ValueError("label_distribution needs at least one label")
    clusters, n_prompts = cluster_codes(prompt_ids, n)
    count_matrix = cluster_count_matrix(clusters, codes, n_prompts, len(LABEL_CODES))
    counts = count_matrix.sum(axis=0)
    low, high = wilson_interval(counts, n, level)
    boot: tuple[Interval | None, ...] = (None,) * len(LABEL_CODES)
    if rounds:
        totals = bootstrap_totals(count_matrix, rounds, as_generator(seed))
        boot = percentile_intervals(totals / totals.sum(axis=1, keepdims=True), level)
    shares = tuple(
        LabelShare(
            label=name,
            count=int(counts[i]),
            share=float(counts[i] / n),
            wilson=Interval(float(low[i]), float(high[i]), level, "wilson"),
            bootstrap=boot[i],
        )
        for i, name in enumerate(LABEL_NAMES)
    )
    return LabelDistribution(n, n_prompts, shares, level)  # type: ignore[arg-type]


def label_distributions_by(
    labels: ArrayLike,
    keys: ArrayLike,
    prompt_ids: ArrayLike | None = None,
    *,
    level: float = DEFAULT_LEVEL,
    rounds: int = 0,
    seed: SeedLike = None,
) -> dict[Hashable, LabelDistribution]:
    """`label_distribution` per key (model, category, ...), in sorted key order.

    The i-th key's bootstrap uses the i-th child generator spawned from `seed`.
    """
    label_arr, key_arr = np.asarray(labels), np.asarray(keys)
    if label_arr.ndim != 1 or key_arr.shape != label_arr.shape:
        raise ValueError("labels and keys must be aligned 1-d arrays")
    prompt_arr = None if prompt_ids is None else np.asarray(prompt_ids)
    names, codes = np.unique(key_arr, return_inverse=True)
    order = np.argsort(codes.reshape(-1), kind="stable")
    starts = np.searchsorted(codes.reshape(-1)[order], np.arange(names.size))
    children = as_generator(seed).spawn(names.size)
    return {
        name.item(): label_distribution(
            label_arr[rows],
            None if prompt_arr is None else prompt_arr[rows],
            level=level,
            rounds=rounds,
            seed=child,
        )
        for name, rows, child in zip(names, np.split(order, starts[1:]), children, strict=True)
    }
