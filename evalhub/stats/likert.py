"""Mean 1-6 Likert helpfulness score (LIMA Section 5) with a two-sided interval.

The paper does not say how its interval was computed, so both are offered and the result
names the one used: a t-interval over prompt means, or a percentile bootstrap that resamples
prompts. Each prompt weighs equally: the point estimate is the mean of the prompt means
(equal to the plain mean when every prompt has the same number of scores).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import t as student_t

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_ROUNDS,
    SeedLike,
    as_generator,
    check_level,
    check_rounds,
    cluster_codes,
    cluster_resample_weights,
    percentile_bounds,
)

LIKERT_MIN, LIKERT_MAX = 1.0, 6.0
LikertMethod = Literal["t", "cluster-bootstrap-percentile"]


@dataclass(frozen=True, slots=True)
class LikertMean:
    """Mean score on the 1-6 scale with its interval; `method` says how the interval was made.

    For method "t", rounds is 0. With a single prompt the interval is (nan, nan) for "t" and
    degenerate for the bootstrap.
    """

    mean: float
    low: float
    high: float
    level: float
    method: LikertMethod
    n_prompts: int
    n_scores: int
    rounds: int


def prompt_means(
    scores: ArrayLike, prompt_ids: ArrayLike | None
) -> tuple[NDArray[np.float64], int]:
    """Mean score of each prompt, shape (n_prompts,), and the number of scores."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("scores must be a non-empty 1-d array")
    if not np.all(np.isfinite(arr)) or arr.min() < LIKERT_MIN or arr.max() > LIKERT_MAX:
        raise ValueError("Likert scores must lie in [1, 6]")
    clusters, n_prompts = cluster_codes(prompt_ids, arr.size)
    sums = np.bincount(clusters, weights=arr, minlength=n_prompts)
    sizes = np.bincount(clusters, minlength=n_prompts)
    return sums / sizes, int(arr.size)


def likert_mean(
    scores: ArrayLike,
    prompt_ids: ArrayLike | None = None,
    *,
    method: LikertMethod = "t",
    level: float = DEFAULT_LEVEL,
    rounds: int = DEFAULT_ROUNDS,
    seed: SeedLike = None,
) -> LikertMean:
    """Mean Likert score with a t-interval over prompt means or a clustered bootstrap.

    scores: (n,) values in [1, 6]; prompt_ids: (n,) cluster labels (None: one score per
    prompt). method "t": mean +- t_{P-1} * sd(prompt means) / sqrt(P).
    method "cluster-bootstrap-percentile": resample prompts; `rounds` and `seed` apply.
    """
    level = check_level(level)
    means, n_scores = prompt_means(scores, prompt_ids)
    n_prompts = int(means.size)
    centre = float(means.mean())
    if method == "t":
        if n_prompts < 2:
            return LikertMean(centre, np.nan, np.nan, level, method, n_prompts, n_scores, 0)
        critical = float(student_t.ppf(0.5 + level / 2.0, n_prompts - 1))
        half = critical * float(means.std(ddof=1)) / float(np.sqrt(n_prompts))
        return LikertMean(
            centre, centre - half, centre + half, level, method, n_prompts, n_scores, 0
        )
    if method == "cluster-bootstrap-percentile":
        rounds = check_rounds(rounds)
        weights = cluster_resample_weights(n_prompts, rounds, as_generator(seed))
        boot = weights @ means / n_prompts
        low, high = percentile_bounds(boot, level)
        return LikertMean(
            centre, float(low), float(high), level, method, n_prompts, n_scores, rounds
        )
    raise ValueError(f"unknown method {method!r}")
