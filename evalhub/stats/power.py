"""How many prompts a pairwise study needs to detect a win-rate gap with a sign test.

win_rate is P(target wins | the judgment is not a tie); the test is the two-sided sign
(binomial) test of that rate against null_win_rate (0.5: no preference). Ties carry no
information for the sign test, so with tie rate t only about n (1 - t) of n prompts count.

  * method "normal": n_decisive = ((z_{1-alpha/2} sqrt(p0 q0) + z_power sqrt(p1 q1)) /
    (p1 - p0))^2 and n_prompts = ceil(n_decisive / (1 - t)).
  * method "exact" (null 0.5 only): the smallest n whose exact power reaches the target,
    where the number of decisive judgments is itself Binomial(n, 1 - t) and each count d is
    tested with the exact two-sided binomial test at level alpha (scipy's binomtest). Exact
    power is a sawtooth in n, so a few prompts more can give slightly less power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binom, norm

PlanMethod = Literal["normal", "exact"]


@dataclass(frozen=True, slots=True)
class SamplePlan:
    """Prompts needed (one judgment per prompt) and the power they achieve.

    n_decisive is the expected number of non-tie judgments at n_prompts. achieved_power is
    computed with the same method (normal approximation or exact).
    """

    n_prompts: int
    n_decisive: float
    win_rate: float
    null_win_rate: float
    tie_rate: float
    alpha: float
    power: float
    achieved_power: float
    method: PlanMethod


def _check(
    win_rate: float, null_win_rate: float, tie_rate: float, alpha: float, power: float
) -> None:
    if not 0.0 < win_rate < 1.0 or not 0.0 < null_win_rate < 1.0:
        raise ValueError("win rates must lie in (0, 1)")
    if win_rate == null_win_rate:
        raise ValueError("win_rate must differ from null_win_rate")
    if not 0.0 <= tie_rate < 1.0:
        raise ValueError("tie_rate must lie in [0, 1)")
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError("alpha and power must lie in (0, 1)")


def normal_power(
    n_prompts: ArrayLike,
    win_rate: float,
    *,
    null_win_rate: float = 0.5,
    tie_rate: float = 0.0,
    alpha: float = 0.05,
) -> NDArray[np.float64]:
    """Normal-approximation power of the two-sided test at n_prompts (both tails)."""
    decisive = np.asarray(n_prompts, dtype=np.float64) * (1.0 - tie_rate)
    p0, p1 = null_win_rate, win_rate
    z = norm.ppf(1.0 - alpha / 2.0)
    sd0, sd1 = math.sqrt(p0 * (1 - p0)), math.sqrt(p1 * (1 - p1))
    shift = (p1 - p0) * np.sqrt(decisive)
    return norm.cdf((shift - z * sd0) / sd1) + norm.cdf((-shift - z * sd0) / sd1)


def _decisive_power(max_decisive: int, win_rate: float, alpha: float) -> NDArray[np.float64]:
    """Exact sign-test power for d = 0..max_decisive decisive judgments (null 0.5).

    With a symmetric null, scipy's two-sided p-value for k < d/2 is 2 P(X <= k), so we
    reject when k <= a(d) or k >= d - a(d), a(d) = the largest k with 2 P(X <= k) <= alpha.
    """
    d = np.arange(max_decisive + 1)
    q = binom.ppf(alpha / 2.0, d, 0.5)  # smallest k with P(X <= k) >= alpha / 2
    a = np.where(2.0 * binom.cdf(q, d, 0.5) <= alpha * (1 + 1e-12), q, q - 1)
    a = np.where(d == 0, -1, a)
    return binom.cdf(a, d, win_rate) + binom.sf(d - a - 1, d, win_rate) * (a >= 0)


def exact_power(
    n_prompts: int, win_rate: float, *, tie_rate: float = 0.0, alpha: float = 0.05
) -> float:
    """Exact power of the two-sided sign test (null 0.5) over n_prompts judgments."""
    per_d = _decisive_power(n_prompts, win_rate, alpha)
    weights = binom.pmf(np.arange(n_prompts + 1), n_prompts, 1.0 - tie_rate)
    return float(weights @ per_d)


def prompts_needed(
    win_rate: float,
    *,
    null_win_rate: float = 0.5,
    tie_rate: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    method: PlanMethod = "normal",
    max_prompts: int = 1_000_000,
) -> SamplePlan:
    """Number of prompts to detect win_rate vs null_win_rate (see module docstring)."""
    _check(win_rate, null_win_rate, tie_rate, alpha, power)
    p0, p1 = null_win_rate, win_rate
    z_a, z_b = norm.ppf(1.0 - alpha / 2.0), norm.ppf(power)
    decisive = (z_a * math.sqrt(p0 * (1 - p0)) + z_b * math.sqrt(p1 * (1 - p1))) / (p1 - p0)
    guess = max(1, math.ceil(decisive**2 / (1.0 - tie_rate)))
    if method == "normal":
        n = guess
        achieved = float(normal_power(n, p1, null_win_rate=p0, tie_rate=tie_rate, alpha=alpha))
    elif method == "exact":
        if null_win_rate != 0.5:
            raise ValueError("the exact planner supports null_win_rate = 0.5 (sign test) only")
        n, achieved = _exact_search(guess, p1, tie_rate, alpha, power, max_prompts)
    else:
        raise ValueError(f"unknown method {method!r}")
    return SamplePlan(
        n_prompts=n,
        n_decisive=n * (1.0 - tie_rate),
        win_rate=p1,
        null_win_rate=p0,
        tie_rate=tie_rate,
        alpha=alpha,
        power=power,
        achieved_power=achieved,
        method=method,
    )


def _exact_search(
    guess: int, win_rate: float, tie_rate: float, alpha: float, power: float, max_prompts: int
) -> tuple[int, float]:
    """Smallest n in [1, max_prompts] with exact power >= power, scanning in blocks of n."""
    # the exact n sits near the normal guess; step back until power is below the target
    start, back = max(1, int(guess * 0.9) - 20), max(1, guess // 10)
    while start > 1 and exact_power(start, win_rate, tie_rate=tie_rate, alpha=alpha) >= power:
        start, back = max(1, start - back), back * 2
    block = 256
    per_d_all = _decisive_power(min(max_prompts, int(guess * 1.5) + 300), win_rate, alpha)
    while start <= max_prompts:
        stop = min(start + block, max_prompts + 1)
        ns = np.arange(start, stop)
        # the decisive count d ~ Binomial(n, 1 - t) only matters within ~12 sd of its mean
        sd = math.sqrt(stop * tie_rate * (1.0 - tie_rate))
        lo = max(0, math.floor(start * (1.0 - tie_rate) - 12.0 * sd) - 1)
        hi = min(stop, math.ceil(stop * (1.0 - tie_rate) + 12.0 * sd) + 1)
        d = np.arange(lo, hi + 1)
        if hi >= per_d_all.size:  # grow the table of per-count powers geometrically
            per_d_all = _decisive_power(max(hi, 2 * per_d_all.size), win_rate, alpha)
        per_d = per_d_all[lo : hi + 1]
        powers = binom.pmf(d[None, :], ns[:, None], 1.0 - tie_rate) @ per_d
        hits = np.flatnonzero(powers >= power)
        if hits.size:
            return int(ns[hits[0]]), float(powers[hits[0]])
        start = stop
    raise ValueError(f"power {power} not reached within {max_prompts} prompts")


def prompts_for_interval_width(
    width: float | ArrayLike, *, share: float = 0.5, level: float = 0.95
) -> NDArray[np.int64]:
    """Prompts needed (one judgment each) for a normal `level` interval of total width
    `width` on a win share near `share`: n = ceil((2 z)^2 share (1 - share) / width^2).
    share = 0.5 is the worst case. Widths must lie in (0, 1]."""
    widths = np.asarray(width, dtype=np.float64)
    if np.any(widths <= 0.0) or np.any(widths > 1.0):
        raise ValueError("interval widths must lie in (0, 1]")
    if not 0.0 < share < 1.0 or not 0.0 < level < 1.0:
        raise ValueError("share and level must lie in (0, 1)")
    z = norm.ppf(0.5 + level / 2.0)
    return np.ceil((2.0 * z) ** 2 * share * (1.0 - share) / widths**2 - 1e-9).astype(np.int64)
