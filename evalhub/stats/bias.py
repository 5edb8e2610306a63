"""Order effects: position bias of human raters and swap consistency of LLM judges.

Verdicts are in the target's perspective (1 win, 0 tie, -1 loss) unless stated otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binomtest

from evalhub.stats.bootstrap import DEFAULT_LEVEL, Interval, check_level, coded_values
from evalhub.stats.ratings import wilson_interval

VERDICT_CODES = (-1, 0, 1)


@dataclass(frozen=True, slots=True)
class PositionBias:
    """How often the response shown first (left, "A") wins among decisive judgments.

    first_win_rate = first_wins / (first_wins + second_wins), NaN if no decisive judgment.
    interval: exact Clopper-Pearson at `level`; p_value: exact two-sided binomial test of
    first_win_rate = 0.5 (1.0 if no decisive judgment). Ties are counted but not tested.
    """

    n_judgments: int
    first_wins: int
    second_wins: int
    ties: int
    first_win_rate: float
    interval: Interval
    p_value: float
    level: float


def position_bias(
    verdicts: ArrayLike,
    target_first: ArrayLike | None = None,
    *,
    level: float = DEFAULT_LEVEL,
) -> PositionBias:
    """Position bias from judgments whose display order was recorded.

    verdicts: (n,) codes -1/0/1. target_first: (n,) bools, True when the target's response
    was shown first; the verdicts are then target-perspective and get flipped to the first
    shown response's perspective. None: verdicts already say 1 = first shown response wins.
    """
    level = check_level(level)
    codes = coded_values(verdicts, VERDICT_CODES, "verdicts") - 1  # back to -1/0/1
    if target_first is not None:
        first = np.asarray(target_first, dtype=bool)
        if first.shape != codes.shape:
            raise ValueError("verdicts and target_first must be aligned")
        codes = np.where(first, codes, -codes)
    first_wins, second_wins = int((codes == 1).sum()), int((codes == -1).sum())
    decisive = first_wins + second_wins
    if decisive == 0:
        nan = float("nan")
        interval, p_value, rate = Interval(nan, nan, level, "clopper-pearson"), 1.0, nan
    else:
        test = binomtest(first_wins, decisive, 0.5)
        ci = test.proportion_ci(confidence_level=level, method="exact")
        interval = Interval(float(ci.low), float(ci.high), level, "clopper-pearson")
        p_value, rate = float(test.pvalue), first_wins / decisive
    return PositionBias(
        n_judgments=int(codes.size),
        first_wins=first_wins,
        second_wins=second_wins,
        ties=int(codes.size) - decisive,
        first_win_rate=rate,
        interval=interval,
        p_value=p_value,
        level=level,
    )


@dataclass(frozen=True, slots=True)
class SwapConsistency:
    """Agreement of an LLM judge with itself when the two responses swap places.

    consistent: items with the same target-perspective verdict in both orders; rate is its
    share (0..1) with a Wilson interval. flips: a win in one order and a loss in the other.
    favours_first / favours_second: inconsistent items where the target did better when it
    was shown first / second (the judge's lean towards a position).
    """

    n_items: int
    consistent: int
    rate: float
    interval: Interval
    flips: int
    favours_first: int
    favours_second: int
    level: float


def swap_consistency(
    verdict_ab: ArrayLike, verdict_ba: ArrayLike, *, level: float = DEFAULT_LEVEL
) -> SwapConsistency:
    """Swap consistency from the verdicts of both orders on the same items.

    verdict_ab: (n,) target-perspective verdicts with the target shown first (order AB);
    verdict_ba: (n,) the same items with the target shown second (order BA).
    """
    level = check_level(level)
    ab = coded_values(verdict_ab, VERDICT_CODES, "verdict_ab")
    ba = coded_values(verdict_ba, VERDICT_CODES, "verdict_ba")
    if ab.shape != ba.shape:
        raise ValueError("verdict_ab and verdict_ba must be aligned")
    n = int(ab.size)
    if n == 0:
        raise ValueError("swap_consistency needs at least one item")
    consistent = int((ab == ba).sum())
    low, high = wilson_interval(consistent, n, level)
    return SwapConsistency(
        n_items=n,
        consistent=consistent,
        rate=consistent / n,
        interval=Interval(float(low), float(high), level, "wilson"),
        flips=int((np.abs(ab - ba) == 2).sum()),
        favours_first=int((ab > ba).sum()),
        favours_second=int((ab < ba).sum()),
        level=level,
    )
