"""Shares over an instrument's own choices (k-way), and Arena-Hard's weighted win rate.

Choice codes are 0..k-1 in the instrument's order. Pairwise points are from the target's
side: 1 = target preferred, 0.5 = tie (or "both bad"), 0 = baseline preferred; a judgment's
weight is its choice's weight (Arena-Hard: 3 for a strong preference, else 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    Interval,
    SeedLike,
    as_generator,
    check_level,
    check_rounds,
    cluster_codes,
    cluster_resample_weights,
    percentile_bounds,
)
from evalhub.stats.ratings import wilson_interval


@dataclass(frozen=True, slots=True)
class ChoiceShare:
    value: str
    count: int
    share: float
    wilson: Interval


@dataclass(frozen=True, slots=True)
class ChoiceShares:
    """The share of each of k choices among `n` judgments, with Wilson intervals."""

    n: int
    shares: tuple[ChoiceShare, ...]


def choice_shares(
    codes: ArrayLike, values: Sequence[str], *, level: float = DEFAULT_LEVEL
) -> ChoiceShares:
    """Shares of each choice (codes 0..len(values)-1) with Wilson intervals."""
    level = check_level(level)
    arr = np.asarray(codes, dtype=np.int64)
    k = len(values)
    if arr.ndim != 1 or arr.size == 0 or arr.min() < 0 or arr.max() >= k:
        raise ValueError(f"codes must be a non-empty 1-d array of 0..{k - 1}")
    counts = np.bincount(arr, minlength=k)
    low, high = wilson_interval(counts, arr.size, level)
    return ChoiceShares(
        int(arr.size),
        tuple(
            ChoiceShare(v, int(counts[i]), float(counts[i] / arr.size),
                        Interval(float(low[i]), float(high[i]), level, "wilson"))
            for i, v in enumerate(values)
        ),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class WeightedWinRate:
    """Plain win rate (each judgment once, a tie half a win) beside Arena-Hard's weighted
    one (each judgment counted `weight` times), with a prompt-clustered bootstrap interval
    for the weighted rate."""

    n: int
    win_rate: float
    weighted_win_rate: float
    weighted_n: float
    interval: Interval | None


def weighted_win_rate(
    points: ArrayLike,
    weights: ArrayLike,
    prompt_ids: ArrayLike | None = None,
    *,
    level: float = DEFAULT_LEVEL,
    rounds: int = 0,
    seed: SeedLike = None,
) -> WeightedWinRate:
    """sum(weight * points) / sum(weight), as Arena-Hard scores a judgment of "A>>B" as
    `weight` wins (lmarena/arena-hard-auto, show_result.py); rounds: bootstrap rounds
    (0: no interval)."""
    level = check_level(level)
    rounds = check_rounds(rounds, allow_zero=True)
    p = np.asarray(points, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if p.ndim != 1 or p.shape != w.shape or p.size == 0:
        raise ValueError("points and weights must be aligned non-empty 1-d arrays")
    if np.any((p != 0) & (p != 0.5) & (p != 1)) or np.any(w <= 0):
        raise ValueError("points must be 0, 0.5 or 1 and weights positive")
    interval = None
    if rounds:
        clusters, n_clusters = cluster_codes(prompt_ids, p.size)
        won = np.bincount(clusters, weights=w * p, minlength=n_clusters)
        total = np.bincount(clusters, weights=w, minlength=n_clusters)
        draws = cluster_resample_weights(n_clusters, rounds, as_generator(seed))
        rates = (draws @ won) / (draws @ total)
        low, high = percentile_bounds(rates, level)
        interval = Interval(float(low), float(high), level, "cluster-bootstrap-percentile")
    return WeightedWinRate(
        n=int(p.size),
        win_rate=float(p.mean()),
        weighted_win_rate=float((w * p).sum() / w.sum()),
        weighted_n=float(w.sum()),
        interval=interval,
    )
