"""Weighted (continuous-preference) win rate: AlpacaEval's `win_rate`, the mean preference.

A preference is P(target better than baseline) in [0, 1]: a logprob-weighted judge's verdict,
an imported AlpacaEval `preference` minus 1, or a discrete verdict as 1 / 0.5 / 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_ROUNDS,
    Interval,
    SeedLike,
    as_generator,
    check_level,
    check_rounds,
    cluster_codes,
    cluster_resample_weights,
    percentile_bounds,
)


@dataclass(frozen=True, slots=True)
class WeightedWinRate:
    """Mean preference with AlpacaEval's standard error (sample sd / sqrt(n), ddof=1) and a
    percentile interval from resampling prompts (clusters). NaN standard error for n = 1."""

    n: int
    win_rate: float
    standard_error: float
    interval: Interval
    rounds: int


def weighted_win_rate(
    preference: ArrayLike,
    prompt_ids: ArrayLike | None = None,
    *,
    rounds: int = DEFAULT_ROUNDS,
    level: float = DEFAULT_LEVEL,
    seed: SeedLike = None,
) -> WeightedWinRate:
    """preference: (n,) values in [0, 1]; prompt_ids: (n,) cluster labels (None: one each)."""
    p = np.asarray(preference, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError("need a non-empty 1-d array of preferences")
    bad = np.flatnonzero(~np.isfinite(p) | (p < 0) | (p > 1))
    if bad.size:
        raise ValueError(f"preference row {bad[0]} is {p[bad[0]]}: must be in [0, 1]")
    level, rounds = check_level(level), check_rounds(rounds)
    clusters, k = cluster_codes(prompt_ids, p.size)
    sums = np.bincount(clusters, weights=p, minlength=k)
    counts = np.bincount(clusters, minlength=k).astype(np.float64)
    weights = cluster_resample_weights(k, rounds, as_generator(seed))
    samples = (weights @ sums) / (weights @ counts)
    low, high = percentile_bounds(samples, level)
    se = float(p.std(ddof=1) / np.sqrt(p.size)) if p.size > 1 else float("nan")
    return WeightedWinRate(
        n=int(p.size),
        win_rate=float(p.mean()),
        standard_error=se,
        interval=Interval(float(low), float(high), level, "cluster-bootstrap-percentile"),
        rounds=rounds,
    )
