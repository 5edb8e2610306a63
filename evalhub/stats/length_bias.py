"""Length bias: does the longer response win?

length_diff is len(target) - len(baseline) in any unit (characters, tokens), per judgment.
Win rates count a tie as half a win ("preferred rate"). The length-controlled win rate is
AlpacaEval's own estimator, in evalhub.stats.alpaca_lc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalhub.stats.bootstrap import coded_values

VERDICT_CODES = (-1, 0, 1)
DEFAULT_RIDGE = 1e-3


def _verdicts_and_lengths(
    verdicts: ArrayLike, length_diff: ArrayLike
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    codes = coded_values(verdicts, VERDICT_CODES, "verdicts") - 1
    diff = np.asarray(length_diff, dtype=np.float64)
    if diff.shape != codes.shape:
        raise ValueError("verdicts and length_diff must be aligned 1-d arrays")
    if codes.size == 0:
        raise ValueError("need at least one judgment")
    if not np.all(np.isfinite(diff)):
        raise ValueError("length_diff must be finite")
    return codes, diff


@dataclass(frozen=True, slots=True)
class LengthBinnedWinRate:
    """Win/tie/loss counts and preferred rate per bin of length difference.

    Bin i holds edges[i] <= length_diff < edges[i + 1] (the last bin includes its right
    edge). preferred_rate = (wins + ties / 2) / n, NaN for an empty bin.
    """

    edges: NDArray[np.float64]
    n: NDArray[np.int64]
    wins: NDArray[np.int64]
    ties: NDArray[np.int64]
    losses: NDArray[np.int64]
    preferred_rate: NDArray[np.float64]


def win_rate_by_length(
    verdicts: ArrayLike, length_diff: ArrayLike, *, bins: int | ArrayLike = 5
) -> LengthBinnedWinRate:
    """Preferred rate of the target per length-difference bin.

    bins: a number of quantile bins (edges merged where quantiles coincide) or explicit
    increasing edges; judgments outside explicit edges are dropped.
    """
    codes, diff = _verdicts_and_lengths(verdicts, length_diff)
    if np.ndim(bins) == 0:
        n_bins = int(bins)  # type: ignore[arg-type]
        if n_bins < 1:
            raise ValueError("bins must be >= 1")
        edges = np.unique(np.quantile(diff, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.size == 1:  # all differences equal: one degenerate bin
            edges = np.array([edges[0], edges[0]])
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
            raise ValueError("bin edges must be an increasing 1-d array of >= 2 values")
    n_bins = edges.size - 1
    inside = (diff >= edges[0]) & (diff <= edges[-1])
    index = np.clip(np.searchsorted(edges, diff[inside], side="right") - 1, 0, n_bins - 1)
    table = np.bincount(index * 3 + codes[inside] + 1, minlength=n_bins * 3).reshape(n_bins, 3)
    losses, ties, wins = table[:, 0], table[:, 1], table[:, 2]
    n = table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, (wins + 0.5 * ties) / n, np.nan)
    return LengthBinnedWinRate(edges, n, wins, ties, losses, rate)
