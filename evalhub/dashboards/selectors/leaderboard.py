"""Bradley-Terry leaderboards from pairwise judgments (evalhub.stats.bradley_terry).

Judgments are counted by (target model, baseline model, verdict) in the database and fed to
the fit as battles: target = model_a, verdict target/tie/baseline = 1/0/-1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Count, Q
from numpy.typing import NDArray

from evalhub.dashboards.cache import GLOBAL_SCOPE, cached_stats
from evalhub.dashboards.selectors.frames import PAIRWISE_CODES, counted_judgments
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.stats import bradley_terry_leaderboard
from evalhub.studies.models import Judgment

LEADERBOARD_ROUNDS = 100
LEADERBOARD_SEED = 0


def leaderboard_from_battles(
    model_a: NDArray[np.str_], model_b: NDArray[np.str_], outcome: NDArray[np.int64]
) -> dict[str, Any] | None:
    """A JSON leaderboard (best first) from aligned battle arrays; None if under 2 models."""
    names, codes = np.unique(np.concatenate([model_a, model_b]), return_inverse=True)
    codes = codes.reshape(-1)
    return leaderboard_from_coded_battles(
        codes[: model_a.size], codes[model_a.size :], outcome, names
    )


def leaderboard_from_coded_battles(
    model_a: NDArray[np.intp],
    model_b: NDArray[np.intp],
    outcome: NDArray[np.int64],
    names: NDArray[np.str_],
) -> dict[str, Any] | None:
    """leaderboard_from_battles with models given as indexes into `names` (sorted, unique):
    the same board, without sorting one string per battle. Models without a battle are left
    out, as there."""
    keep = model_a != model_b
    model_a, model_b, outcome = model_a[keep], model_b[keep], outcome[keep]
    if outcome.size == 0:
        return None
    present, codes = np.unique(np.concatenate([model_a, model_b]), return_inverse=True)
    if present.size < 2:
        return None
    codes = codes.reshape(-1)
    a, b = codes[: model_a.size], codes[model_a.size :]
    names = names[present]
    board = bradley_terry_leaderboard(
        a, b, outcome, [str(n) for n in names], rounds=LEADERBOARD_ROUNDS, seed=LEADERBOARD_SEED
    )
    rows = [
        {
            "model": board.models[i],
            "rating": board.ratings[i],
            "lower": board.lower[i],
            "upper": board.upper[i],
            "rank": board.rank[i],
            "n_battles": board.n_battles[i],
        }
        for i in board.order()
    ]
    return jsonable(
        {
            "models": rows,
            "tie_model": board.tie_model,
            "rounds": board.rounds,
            "level": board.level,
            "scale": board.scale,
            "init_rating": board.init_rating,
            "converged": board.converged,
        }
    )


def _global_leaderboard(groups: list[str] | None) -> dict[str, Any] | None:
    where = counted_judgments(Q(verdict__in=PAIRWISE_CODES, item__baseline_output__isnull=False))
    if groups:
        where &= Q(judge_group__in=groups)
    rows = list(
        Judgment.objects.filter(where)
        .values("item__target_output__model__slug", "item__baseline_output__model__slug")
        .annotate(n_target=Count("id", filter=Q(verdict="target")))
        .annotate(n_tie=Count("id", filter=Q(verdict="tie")))
        .annotate(n_baseline=Count("id", filter=Q(verdict="baseline")))
        .order_by()
        .values_list(
            "item__target_output__model__slug",
            "item__baseline_output__model__slug",
            "n_target",
            "n_tie",
            "n_baseline",
        )
    )
    if not rows:
        return None
    targets, baselines, wins, ties, losses = (np.array(c) for c in zip(*rows, strict=True))
    counts = np.concatenate([wins, ties, losses]).astype(np.int64)
    outcome = np.repeat(np.repeat(np.array([1, 0, -1]), targets.size), counts)
    model_a = np.repeat(np.tile(targets.astype(str), 3), counts)
    model_b = np.repeat(np.tile(baselines.astype(str), 3), counts)
    board = leaderboard_from_battles(model_a, model_b, outcome)
    if board is not None:
        board["groups"] = groups or "all"
    return board


def global_leaderboard(*, groups: list[str] | None = None) -> dict[str, Any] | None:
    """Bradley-Terry ratings (FastChat's 400-point scale, mean 1000) of every model in any
    pairwise judgment of any study, best first, with 95% bootstrap intervals and
    FastChat's rank; None when fewer than two models have battles.

    Every counted judgment is one battle, LLM verdicts in each order included. groups: only
    these judge groups (default all). Cached; any judgment write invalidates it.
    """
    chosen = sorted(groups) if groups else None
    return cached_stats(GLOBAL_SCOPE, {"leaderboard": chosen}, lambda: _global_leaderboard(chosen))
