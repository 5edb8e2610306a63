"""Which raters to hold back, each with its evidence, from judgment arrays.

Four tests, each a field method with a threshold calibrated on the simulation table
(bench/crowd_simulation.py: at k = 3 and 10+ judgments per rater, honest raters falsely
flagged <= 2 %, spammer recall >= 0.8):

- position bias: a two-sided binomial test of the left choices against the 50 % the
  counterbalanced order gives an honest rater (ties are not a side);
- time on task: the rater's median time per item, from fewer judgments than the others
  (`min_timed_judgments`): it is the one test that holds on a short record;
- gold items: a one-sided binomial test of right answers on gold items against
  `gold_expected`;
- spamming (MACE's question, Hovy et al. 2013): are the rater's answers better explained
  by their own answer shares, whatever the item, than by the item's true class as the
  other raters show it (the leave-one-out posterior of the one-coin Dawid-Skene fit)? The
  likelihood ratio of the two explanations is the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binom

from evalhub.stats.one_coin import _EPS, OneCoinResult

QUALITY_DEFAULTS: dict[str, Any] = {
    "min_judgments": 10,  # below it, the position and spam tests stay silent
    # A median of 5 item times already tells a 1 s skim from a 4 s read (simulation table)
    "min_timed_judgments": 5,
    "position_alpha": 0.002,
    "min_median_seconds": 2.5,
    "gold_expected": 0.8,
    "gold_alpha": 0.01,
    "min_gold": 3,
    "honest_skill": 0.7,  # the honest explanation: P(right) at least this
    "spam_odds": 8.0,  # flag when chance explains the answers this many times better
}


@dataclass(frozen=True)
class CrowdFlags:
    """Per rater: `flags` {test: bool}, `evidence` {test: text or None}, and the numbers
    behind them: `left`/`sided`, `median_ms`, `gold_right`/`gold`, `spam_odds`,
    `agreement` (expected agreement with the others' posterior) over `judged`."""

    flags: dict[str, NDArray[np.bool_]]
    evidence: dict[str, list[str | None]]
    left: NDArray[np.int64]
    sided: NDArray[np.int64]
    median_ms: NDArray[np.float64]
    gold_right: NDArray[np.int64]
    gold: NDArray[np.int64]
    spam_odds: NDArray[np.float64]
    agreement: NDArray[np.float64]
    judged: NDArray[np.int64]

    @property
    def flagged(self) -> NDArray[np.bool_]:
        hits = list(self.flags.values())
        return np.logical_or.reduce(hits) if hits else np.zeros(self.left.size, dtype=bool)


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def position_p(left: NDArray, sided: NDArray) -> NDArray[np.float64]:
    """Two-sided binomial p of `left` of `sided` choices against 1/2 (1 where none)."""
    low = binom.cdf(left, sided, 0.5)
    high = binom.sf(left - 1, sided, 0.5)
    return np.where(sided > 0, np.minimum(1.0, 2 * np.minimum(low, high)), 1.0)


def leave_one_out_posterior(
    fit: OneCoinResult, item: NDArray, rater: NDArray, label: NDArray
) -> NDArray[np.float64]:
    """Per judgment, P(true class) given the other judgments of its item under `fit`
    (the rater's own factor divided out of the item's posterior)."""
    n_classes = fit.proba.shape[1]
    ti = np.searchsorted(fit.items, item)
    wi = np.searchsorted(fit.raters, rater)
    s = np.clip(fit.skill[wi], _EPS, 1 - _EPS)
    own = np.repeat(((1 - s) / (n_classes - 1))[:, None], n_classes, axis=1)
    own[np.arange(label.size), label] = s
    post = np.clip(fit.proba[ti], 1e-300, None) / np.clip(own, _EPS, None)
    return post / post.sum(axis=1, keepdims=True)


def crowd_flags(
    *,
    n_raters: int,
    rater: ArrayLike,
    item: ArrayLike,
    label: ArrayLike,
    sided: ArrayLike,
    chose_left: ArrayLike,
    time_ms: ArrayLike,
    fit: OneCoinResult | None,
    gold_right: ArrayLike | None = None,
    n_classes: int = 3,
    rules: dict[str, Any] | None = None,
) -> CrowdFlags:
    """Flags per rater. Per judgment (real ones: attention checks left out): `rater`,
    `item` codes, `label` class, `sided` (a left/right choice), `chose_left`, `time_ms`
    (NaN: unknown) and `gold_right` (NaN: not a gold item, else 1/0). `fit`: the one-coin
    fit of these judgments (gold items included or not), None to skip the spam test."""
    from evalhub.stats.raters import per_rater_quantile  # sibling module, no circle

    r = {**QUALITY_DEFAULTS, **(rules or {})}
    rater = np.asarray(rater, dtype=np.intp)
    item = np.asarray(item, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    sided_b = np.asarray(sided, dtype=bool)
    left = np.bincount(rater[sided_b & np.asarray(chose_left, dtype=bool)], minlength=n_raters)
    sided_n = np.bincount(rater[sided_b], minlength=n_raters)
    judged = np.bincount(rater, minlength=n_raters)
    enough = judged >= int(r["min_judgments"])
    p_pos = position_p(left, sided_n)
    position = enough & (p_pos < float(r["position_alpha"]))
    median = per_rater_quantile(rater, np.asarray(time_ms, dtype=np.float64), n_raters, 0.5)
    with np.errstate(invalid="ignore"):
        timed = judged >= int(r["min_timed_judgments"])
        fast = timed & (median < 1000 * float(r["min_median_seconds"]))
    g = np.full(label.size, np.nan) if gold_right is None else np.asarray(gold_right, float)
    on_gold = np.isfinite(g)
    gold_n = np.bincount(rater[on_gold], minlength=n_raters)
    gold_ok = np.bincount(rater[on_gold], weights=g[on_gold], minlength=n_raters).astype(int)
    p_gold = np.where(gold_n > 0, binom.cdf(gold_ok, gold_n, float(r["gold_expected"])), 1.0)
    gold = (gold_n >= int(r["min_gold"])) & (p_gold < float(r["gold_alpha"]))
    odds, agreement = _spam_odds(fit, rater, item, label, n_raters, n_classes, r)
    spam = enough & (odds > float(r["spam_odds"]))
    ev_pos: list[str | None] = [None] * n_raters
    ev_fast, ev_gold, ev_spam = list(ev_pos), list(ev_pos), list(ev_pos)
    for i in np.flatnonzero(position | fast | gold | spam).tolist():  # text for the flagged
        side = "left" if left[i] * 2 >= sided_n[i] else "right"
        times = left[i] if side == "left" else sided_n[i] - left[i]
        if position[i]:
            ev_pos[i] = (
                f"chose the {side} answer {times} of {sided_n[i]} times "
                f"({_p_text(p_pos[i])}, binomial test against 1/2)"
            )
        if fast[i]:
            ev_fast[i] = (
                f"median {median[i] / 1000:.1f} s per item over {judged[i]} items "
                f"(rule: at least {float(r['min_median_seconds']):g} s)"
            )
        if gold[i]:
            ev_gold[i] = (
                f"right on {gold_ok[i]} of {gold_n[i]} gold items "
                f"({_p_text(p_gold[i])} against {float(r['gold_expected']):.0%})"
            )
        if spam[i]:
            ev_spam[i] = (
                f"answers fit their own answer shares {odds[i]:.0f} times better than the "
                f"items; agreed with the other raters' weighted verdict on "
                f"{agreement[i] * judged[i]:.1f} of {judged[i]} items (one-coin "
                "Dawid-Skene, MACE-style test)"
            )
    return CrowdFlags(
        flags={"position_bias": position, "too_fast": fast, "gold_items": gold, "spamming": spam},
        evidence={
            "position_bias": ev_pos,
            "too_fast": ev_fast,
            "gold_items": ev_gold,
            "spamming": ev_spam,
        },
        left=left,
        sided=sided_n,
        median_ms=median,
        gold_right=gold_ok,
        gold=gold_n,
        spam_odds=odds,
        agreement=agreement,
        judged=judged,
    )


def _spam_odds(
    fit: OneCoinResult | None,
    rater: NDArray,
    item: NDArray,
    label: NDArray,
    n_raters: int,
    n_classes: int,
    r: dict[str, Any],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per rater, the likelihood ratio of "answers drawn from the rater's own shares" over
    "answers from the true class with honest skill", and the expected agreement with the
    leave-one-out posterior."""
    odds = np.zeros(n_raters)
    agreement = np.full(n_raters, np.nan)
    if fit is None or not label.size:
        return odds, agreement
    post = leave_one_out_posterior(fit, item, rater, label)
    hit = post[np.arange(label.size), label]
    # honest: the true class with the rater's best skill in [honest_skill, 0.99]
    skills = np.linspace(float(r["honest_skill"]), 0.99, 30)
    honest = hit[:, None] * skills + (1 - hit[:, None]) * (1 - skills) / (n_classes - 1)
    log_h = np.stack(
        [
            np.bincount(rater, weights=np.log(honest[:, j]), minlength=n_raters)
            for j in range(skills.size)
        ]
    ).max(axis=0)
    counts = np.bincount(rater * n_classes + label, minlength=n_raters * n_classes)
    counts = counts.reshape(n_raters, n_classes).astype(np.float64)
    n_f = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_s = np.nansum(counts * np.log(counts / n_f[:, None]), axis=1)
    # the own-shares model has n_classes - 1 free shares: BIC's penalty for them
    log_s -= 0.5 * (n_classes - 1) * np.log(np.maximum(n_f, 1))
    odds = np.exp(np.clip(log_s - log_h, -700, 700))
    n = np.bincount(rater, minlength=n_raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n > 0, np.bincount(rater, weights=hit, minlength=n_raters) / n, np.nan)
    return odds, agreement
