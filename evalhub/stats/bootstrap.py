"""Bootstrap clustered by prompt, vectorised over rounds.

Judgments on the same prompt are correlated (several raters, both orders, several samples),
so we resample whole prompts with replacement. All rounds come from one matrix product:

    C: (n_prompts, n_categories) counts of each outcome per prompt
    W: (rounds, n_prompts) how often each prompt is drawn in each round (multinomial)
    W @ C: (rounds, n_categories) bootstrap totals, no Python loop over rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

SeedLike = int | np.random.Generator | np.random.SeedSequence | None

DEFAULT_ROUNDS = 2000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    """A two-sided interval for one statistic.

    `level` is the nominal coverage (0.95 = 95%). `method` names how it was computed:
    "cluster-bootstrap-percentile", "wilson", "t", "clopper-pearson".
    """

    low: float
    high: float
    level: float
    method: str

    def contains(self, value: float) -> bool:
        """True when `value` lies inside the closed interval."""
        return self.low <= value <= self.high


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A numpy Generator from an int seed, a SeedSequence, an existing Generator or None."""
    return np.random.default_rng(seed)


def check_level(level: float) -> float:
    """Validate a coverage level strictly between 0 and 1."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(level)


def check_rounds(rounds: int, *, allow_zero: bool = False) -> int:
    """Validate a number of bootstrap rounds."""
    if rounds < (0 if allow_zero else 1) or int(rounds) != rounds:
        raise ValueError(f"rounds must be a {'non-negative' if allow_zero else 'positive'} int")
    return int(rounds)


def cluster_codes(cluster_ids: ArrayLike | None, n: int) -> tuple[NDArray[np.intp], int]:
    """Dense cluster codes 0..k-1 for `n` observations, and k.

    `cluster_ids` may hold any sortable labels (prompt ids, strings). None means every
    observation is its own cluster (the plain, unclustered bootstrap).
    """
    if cluster_ids is None:
        return np.arange(n, dtype=np.intp), n
    ids = np.asarray(cluster_ids)
    if ids.shape != (n,):
        raise ValueError(f"cluster ids must have shape ({n},), got {ids.shape}")
    uniques, codes = np.unique(ids, return_inverse=True)
    return codes.astype(np.intp, copy=False).reshape(n), int(uniques.size)


def cluster_count_matrix(
    clusters: NDArray[np.intp], categories: NDArray[np.intp], n_clusters: int, n_categories: int
) -> NDArray[np.float64]:
    """C[p, k] = number of observations of category k in cluster p, as float64.

    One bincount on a combined index; float64 so that W @ C goes through BLAS (exact for
    counts below 2**53).
    """
    flat = clusters * n_categories + categories
    counts = np.bincount(flat, minlength=n_clusters * n_categories)
    return counts.reshape(n_clusters, n_categories).astype(np.float64)


def cluster_resample_weights(
    n_clusters: int, rounds: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """W[b, p] = times cluster p is drawn in round b; each row sums to n_clusters."""
    pvals = np.full(n_clusters, 1.0 / n_clusters)
    return rng.multinomial(n_clusters, pvals, size=rounds).astype(np.float64)


def bootstrap_totals(
    count_matrix: NDArray[np.float64], rounds: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """All bootstrap totals at once: (rounds, n_categories) = W @ C."""
    weights = cluster_resample_weights(count_matrix.shape[0], rounds, rng)
    return weights @ count_matrix


def percentile_bounds(
    samples: NDArray[np.float64], level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile interval bounds along axis 0 (the rounds axis)."""
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail], axis=0)
    return low, high


def percentile_intervals(samples: NDArray[np.float64], level: float) -> tuple[Interval, ...]:
    """One percentile Interval per column of a (rounds, k) sample matrix."""
    low, high = percentile_bounds(samples, level)
    return tuple(
        Interval(float(lo), float(hi), level, "cluster-bootstrap-percentile")
        for lo, hi in zip(np.atleast_1d(low), np.atleast_1d(high), strict=True)
    )


def coded_values(values: ArrayLike, allowed: tuple[int, ...], what: str) -> NDArray[np.intp]:
    """Map integer-coded values to 0..len(allowed)-1, rejecting anything else.

    Accepts ints or integral floats; `allowed` must be consecutive integers.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{what} must be numeric codes {allowed}")
    low, high = allowed[0], allowed[-1]
    if arr.size and (
        not np.all(np.isfinite(arr))
        or np.any(arr != np.round(arr))
        or arr.min() < low
        or arr.max() > high
    ):
        raise ValueError(f"{what} must only hold the codes {allowed}")
    return (arr.astype(np.int64) - low).astype(np.intp)
