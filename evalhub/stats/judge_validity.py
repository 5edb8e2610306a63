"""How well an LLM judge agrees with humans on the same pairwise items, with intervals from a
bootstrap over prompts.

Verdict codes from the target's side: 1 target better, 0 tie, -1 baseline better. The human
answer of an item is the per-item majority of its human verdicts (a tie in the counts is a
tie). Metrics: LIMA's tie-discounted accuracy (1 same, 0.5 when exactly one said tie, 0 for
opposite verdicts), plain accuracy, and Cohen's kappa over the three codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import spearmanr

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_ROUNDS,
    Interval,
    SeedLike,
    as_generator,
    check_level,
    check_rounds,
    cluster_codes,
    cluster_count_matrix,
    cluster_resample_weights,
    coded_values,
    percentile_bounds,
)

CODES = (-1, 0, 1)
# credit[i, j]: LIMA's credit for codes i (human) and j (judge), indexed 0..2
_CREDIT = 1.0 - np.abs(np.subtract.outer(np.array(CODES), np.array(CODES))) / 2.0


def majority_verdicts(item_ids: ArrayLike, verdicts: ArrayLike) -> tuple[NDArray, NDArray]:
    """(items sorted, majority code per item); equal top counts give a tie (0)."""
    items, item = np.unique(np.asarray(item_ids), return_inverse=True)
    codes = coded_values(verdicts, CODES, "verdicts")
    counts = np.bincount(item.reshape(-1) * 3 + codes, minlength=items.size * 3).reshape(-1, 3)
    top = counts.max(axis=1, keepdims=True)
    unique_top = (counts == top).sum(axis=1) == 1
    return items, np.where(unique_top, counts.argmax(axis=1) - 1, 0)


def _metrics(confusion: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
    """(tie-discounted accuracy, accuracy, kappa) for a stack (..., 3, 3) of confusions."""
    total = confusion.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        tda = (confusion * _CREDIT).sum(axis=(-2, -1)) / total
        observed = np.trace(confusion, axis1=-2, axis2=-1) / total
        expected = (confusion.sum(axis=-1) * confusion.sum(axis=-2)).sum(axis=-1) / total**2
        kappa = np.where(expected < 1 - 1e-12, (observed - expected) / (1 - expected), np.nan)
    return tda, observed, kappa


@dataclass(frozen=True, slots=True)
class HumanAgreement:
    """Agreement of a judge with the human majority over n_items items (n_prompts prompts)."""

    n_items: int
    n_prompts: int
    tie_discounted_accuracy: float
    tie_discounted_accuracy_interval: Interval
    accuracy: float
    accuracy_interval: Interval
    cohen_kappa: float
    cohen_kappa_interval: Interval
    rounds: int


def human_agreement(
    human: ArrayLike,
    judge: ArrayLike,
    prompt_ids: ArrayLike,
    *,
    rounds: int = DEFAULT_ROUNDS,
    level: float = DEFAULT_LEVEL,
    seed: SeedLike = None,
) -> HumanAgreement:
    """human, judge: aligned (n,) verdict codes per item; prompt_ids: (n,) bootstrap clusters."""
    h = coded_values(human, CODES, "human verdicts")
    j = coded_values(judge, CODES, "judge verdicts")
    if h.shape != j.shape or h.size == 0:
        raise ValueError("human and judge verdicts must be aligned and non-empty")
    level, rounds = check_level(level), check_rounds(rounds)
    clusters, k = cluster_codes(prompt_ids, h.size)
    per_prompt = cluster_count_matrix(clusters, h * 3 + j, k, 9)  # (prompts, 9 cells)
    point = _metrics(per_prompt.sum(axis=0).reshape(3, 3))
    boot = cluster_resample_weights(k, rounds, as_generator(seed)) @ per_prompt
    samples = _metrics(boot.reshape(rounds, 3, 3))

    def interval(values: NDArray[np.float64]) -> Interval:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return Interval(float("nan"), float("nan"), level, "cluster-bootstrap-percentile")
        low, high = percentile_bounds(finite, level)
        return Interval(float(low), float(high), level, "cluster-bootstrap-percentile")

    return HumanAgreement(
        n_items=int(h.size),
        n_prompts=k,
        tie_discounted_accuracy=float(point[0]),
        tie_discounted_accuracy_interval=interval(samples[0]),
        accuracy=float(point[1]),
        accuracy_interval=interval(samples[1]),
        cohen_kappa=float(point[2]),
        cohen_kappa_interval=interval(samples[2]),
        rounds=rounds,
    )


def prefers_longer_rate(verdicts: ArrayLike, length_diff: ArrayLike) -> tuple[float, int]:
    """Share of decisive verdicts (not ties) on unequal-length pairs that chose the longer
    response, and how many such verdicts there were (NaN share when none)."""
    v = np.asarray(verdicts, dtype=np.int64)
    d = np.asarray(length_diff, dtype=np.float64)
    decisive = (v != 0) & (d != 0)
    n = int(decisive.sum())
    if n == 0:
        return float("nan"), 0
    return float(np.mean(np.sign(d[decisive]) == v[decisive])), n


def win_rate_rank_correlation(judge_rates: ArrayLike, human_rates: ArrayLike) -> float | None:
    """Spearman correlation of per-model win rates; None with fewer than 3 models."""
    a, b = np.asarray(judge_rates, dtype=float), np.asarray(human_rates, dtype=float)
    if a.size < 3:
        return None
    value = spearmanr(a, b).statistic
    return None if not np.isfinite(value) else float(value)
