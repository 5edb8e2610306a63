"""Bradley-Terry leaderboard over all models in any pairwise judgments, FastChat-compatible.

Ratings are on FastChat's Elo-like scale: P(a beats b) = 1 / (1 + base ** ((R_b - R_a) /
scale)) with scale 400, base 10, and ratings centred on init_rating = 1000. Anchoring:
  * anchor=None (default): the mean rating is init_rating. This is what FastChat's fit gives
    when its own anchor model (mixtral-8x7b-instruct-v0.1 at 1114) is absent: its optimiser
    starts at 0 and the likelihood only depends on rating differences, so the mean stays 0.
  * anchor=(name, rating): that model is shifted to `rating`, in the point fit and in every
    bootstrap round, as FastChat does with its anchor model.
Intervals resample battles (FastChat's compute_bootstrap_bt): battles collapse to counts of
each (model_a, model_b, outcome) cell, all rounds' counts come from one multinomial draw,
and all rounds are fitted together. Rank is FastChat's: 1 + the number of models whose
lower bound is above this model's upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    SeedLike,
    as_generator,
    check_level,
    check_rounds,
    percentile_bounds,
)
from evalhub.stats.bradley_terry_fit import RatingFit, fit_davidson, fit_half_win, pair_totals

TieModel = Literal["half-win", "davidson"]
DEFAULT_BT_ROUNDS = 100


@dataclass(frozen=True, slots=True)
class BradleyTerryLeaderboard:
    """Ratings (Elo-like points) for `models`, index-aligned, with bootstrap intervals.

    ratings: maximum-likelihood fit on all battles. lower/upper: percentile bounds of the
    bootstrap ratings at `level`. rank: FastChat's interval-based rank (1 = best).
    bootstrap_ratings: (rounds, M), each round anchored like the point fit.
    tie_parameter: Davidson's nu on all battles (None for "half-win").
    converged: False if any fit hit its iteration cap (e.g. a model won all its games).
    """

    models: tuple[str, ...]
    ratings: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    rank: NDArray[np.int64]
    n_battles: NDArray[np.int64]
    bootstrap_ratings: NDArray[np.float64]
    tie_model: TieModel
    tie_parameter: float | None
    anchor: str | None
    anchor_rating: float
    scale: float
    base: float
    init_rating: float
    level: float
    rounds: int
    converged: bool

    def order(self) -> NDArray[np.intp]:
        """Model indices from the highest rating to the lowest."""
        return np.argsort(-self.ratings, kind="stable")

    def rating_of(self, model: str) -> float:
        """The point rating of one model by name."""
        return float(self.ratings[self.models.index(model)])


def win_probability(
    rating_a: ArrayLike, rating_b: ArrayLike, *, scale: float = 400.0, base: float = 10.0
) -> NDArray[np.float64]:
    """P(a beats b) under Bradley-Terry for ratings on the Elo-like scale (ties ignored)."""
    diff = np.asarray(rating_a, dtype=np.float64) - np.asarray(rating_b, dtype=np.float64)
    return 1.0 / (1.0 + np.power(base, -diff / scale))


def rank_by_intervals(lower: ArrayLike, upper: ArrayLike) -> NDArray[np.int64]:
    """1 + number of models whose lower bound is strictly above this model's upper bound."""
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    return 1 + (lo[None, :] > hi[:, None]).sum(axis=1).astype(np.int64)


def battle_cell_counts(
    model_a: ArrayLike, model_b: ArrayLike, outcome: ArrayLike, n_models: int
) -> NDArray[np.int64]:
    """Counts of each (model_a, model_b, outcome) cell, shape (n_models * n_models * 3,).

    Cell index = (a * M + b) * 3 + (outcome + 1); outcome 1 = a wins, 0 tie, -1 = b wins.
    One bincount over a combined index, no row-wise np.unique (that sorts 1e6 rows).
    """
    a = np.asarray(model_a)
    b = np.asarray(model_b)
    o = np.asarray(outcome)
    if a.ndim != 1 or a.shape != b.shape or a.shape != o.shape:
        raise ValueError("model_a, model_b and outcome must be aligned 1-d arrays")
    if a.size == 0:
        raise ValueError("need at least one battle")
    for name, arr, low, high in (
        ("model_a", a, 0, n_models - 1),
        ("model_b", b, 0, n_models - 1),
        ("outcome", o, -1, 1),
    ):
        if not np.issubdtype(arr.dtype, np.integer):
            if not np.issubdtype(arr.dtype, np.floating) or np.any(arr != np.round(arr)):
                raise ValueError(f"{name} must hold integer codes")
        if arr.min() < low or arr.max() > high:
            raise ValueError(f"{name} must lie in [{low}, {high}]")
    if np.any(a == b):
        raise ValueError("a model cannot battle itself (model_a == model_b)")
    cell = a.astype(np.int64) * n_models
    cell += b.astype(np.int64, copy=False)
    cell *= 3
    cell += o.astype(np.int64, copy=False)
    cell += 1
    return np.bincount(cell, minlength=n_models * n_models * 3)


def _fit(
    cells: NDArray[np.float64],
    n_models: int,
    tie_model: TieModel,
    l2: float,
    init: NDArray[np.float64] | None = None,
) -> RatingFit:
    totals = pair_totals(cells, n_models)
    if tie_model == "half-win":
        return fit_half_win(totals, init=init, l2=l2)
    if tie_model == "davidson":
        return fit_davidson(totals, init=init, l2=l2)
    raise ValueError(f"unknown tie_model {tie_model!r}")


def bradley_terry_leaderboard(
    model_a: ArrayLike,
    model_b: ArrayLike,
    outcome: ArrayLike,
    model_names: list[str] | tuple[str, ...],
    *,
    rounds: int = DEFAULT_BT_ROUNDS,
    level: float = DEFAULT_LEVEL,
    tie_model: TieModel = "half-win",
    anchor: tuple[str, float] | None = None,
    scale: float = 400.0,
    base: float = 10.0,
    init_rating: float = 1000.0,
    l2: float = 0.0,
    seed: SeedLike = None,
) -> BradleyTerryLeaderboard:
    """Fit a Bradley-Terry leaderboard with battle-resampling bootstrap intervals.

    model_a, model_b: (n,) indices into model_names; outcome: (n,) 1 a wins, 0 tie, -1 b
    wins. Every model must appear in at least one battle. rounds: bootstrap rounds (0 gives
    degenerate intervals at the point rating). l2: ridge on natural-unit ratings (0 = pure
    MLE, like FastChat). seed: int or numpy Generator for the multinomial resampling.
    """
    level = check_level(level)
    rounds = check_rounds(rounds, allow_zero=True)
    names = tuple(str(n) for n in model_names)
    m = len(names)
    if m < 2:
        raise ValueError("need at least two models")
    counts = battle_cell_counts(model_a, model_b, outcome, m)
    n_total = int(counts.sum())
    per_pair = counts.reshape(m, m, 3).sum(axis=2)
    n_battles = (per_pair.sum(axis=0) + per_pair.sum(axis=1)).astype(np.int64)
    if np.any(n_battles == 0):
        missing = [names[i] for i in np.flatnonzero(n_battles == 0)]
        raise ValueError(f"models without battles: {missing}")
    anchor_index, anchor_rating = None, init_rating
    if anchor is not None:
        if anchor[0] not in names:
            raise ValueError(f"anchor model {anchor[0]!r} is not in model_names")
        anchor_index, anchor_rating = names.index(anchor[0]), float(anchor[1])
    point = _fit(counts[None, :].astype(np.float64), m, tie_model, l2)

    def to_scale(natural: NDArray[np.float64]) -> NDArray[np.float64]:
        scaled = natural * (scale / math.log(base)) + init_rating
        if anchor_index is not None:
            scaled = scaled + (anchor_rating - scaled[:, [anchor_index]])
        return scaled

    ratings = to_scale(point.ratings)[0]
    converged = bool(point.converged.all())
    if rounds:
        nonzero = np.flatnonzero(counts)
        draws = as_generator(seed).multinomial(n_total, counts[nonzero] / n_total, size=rounds)
        boot_cells = np.zeros((rounds, counts.size))
        boot_cells[:, nonzero] = draws
        boot = _fit(boot_cells, m, tie_model, l2, init=point.ratings)
        converged = converged and bool(boot.converged.all())
        boot_ratings = to_scale(boot.ratings)
        lower, upper = percentile_bounds(boot_ratings, level)
    else:
        boot_ratings = np.empty((0, m))
        lower, upper = ratings.copy(), ratings.copy()
    nu = None if point.log_nu is None else float(np.exp(point.log_nu[0]))
    rank = rank_by_intervals(lower, upper)
    for arr in (ratings, lower, upper, rank, n_battles, boot_ratings):
        arr.setflags(write=False)  # the dataclass is frozen; so are its arrays
    return BradleyTerryLeaderboard(
        models=names,
        ratings=ratings,
        lower=lower,
        upper=upper,
        rank=rank,
        n_battles=n_battles,
        bootstrap_ratings=boot_ratings,
        tie_model=tie_model,
        tie_parameter=nu,
        anchor=None if anchor is None else anchor[0],
        anchor_rating=anchor_rating,
        scale=scale,
        base=base,
        init_rating=init_rating,
        level=level,
        rounds=rounds,
        converged=converged,
    )
