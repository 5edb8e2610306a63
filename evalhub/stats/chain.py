"""Scores for models compared along a chain: each one only against the one before it.

Checkpoint selection judges epoch i against epoch i - 1. Link i's counts (wins, ties,
losses of model i against model i - 1) give its log-odds, with a tie as half a win and 0.5
added to each side: log((w + t/2 + 0.5) / (l + t/2 + 0.5)). The chain score is the running
sum from s_0 = 0. On a path every link is its own comparison, so this is exactly the
Bradley-Terry fit of the smoothed counts (scores up to the first model's 0).

A link with no verdict at all carries no evidence: its log-odds and every score after it are
nan (those models cannot be placed against the first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

SMOOTHING = 0.5
# Two chain scores closer than this are a tie (sums of logs rarely cancel to exactly 0).
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class ChainScores:
    """Per model: `scores` (k,), s_0 = 0. Per link i -> i + 1: `log_odds` (k - 1,) and
    their `standard_errors` (the empirical logit's sqrt(1/W + 1/L)); nan where unplaced."""

    scores: tuple[float, ...]
    log_odds: tuple[float, ...]
    standard_errors: tuple[float, ...]
    smoothing: float

    @property
    def best(self) -> int | None:
        return chain_best(self.scores)


def _counts(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of counts")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return arr


def chain_scores(
    wins: ArrayLike, ties: ArrayLike, losses: ArrayLike, *, smoothing: float = SMOOTHING
) -> ChainScores:
    """Chain scores of k models from the k - 1 links' counts, each from the later model's side.

    wins, ties, losses: (k - 1,) counts, link i comparing model i + 1 with model i.
    smoothing: added to each side of every link (> 0, so a clean sweep stays finite).
    """
    w, t, lo = _counts(wins, "wins"), _counts(ties, "ties"), _counts(losses, "losses")
    if not (w.shape == t.shape == lo.shape):
        raise ValueError("wins, ties and losses must have the same length")
    if not smoothing > 0:
        raise ValueError("smoothing must be positive")
    won = w + t / 2 + smoothing
    lost = lo + t / 2 + smoothing
    empty = (w + t + lo) == 0
    log_odds = np.where(empty, np.nan, np.log(won / lost))
    errors = np.where(empty, np.nan, np.sqrt(1 / won + 1 / lost))
    # nan propagates through the running sum: a broken link leaves the rest unplaced.
    scores = np.concatenate([[0.0], np.cumsum(log_odds)])
    return ChainScores(
        scores=tuple(float(s) for s in scores),
        log_odds=tuple(float(x) for x in log_odds),
        standard_errors=tuple(float(x) for x in errors),
        smoothing=float(smoothing),
    )


def chain_best(scores: ArrayLike, *, tolerance: float = TIE_TOLERANCE) -> int | None:
    """Index of the highest score; among scores within `tolerance` of it, the earliest.
    nan scores are skipped; None when there is no score."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError("scores must be a 1-d array")
    placed = ~np.isnan(arr)
    if not placed.any():
        return None
    top = arr[placed].max()
    return int(np.flatnonzero(placed & (arr >= top - tolerance))[0])
