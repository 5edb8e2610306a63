"""Win / tie / loss of a target model against one baseline, for one judge group.

Verdicts are coded from the target's side: 1 = target wins, 0 = tie, -1 = target loses.
LIMA's headline metric is "equivalent or preferred" = wins + ties.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binomtest

from evalhub.stats.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_ROUNDS,
    Interval,
    SeedLike,
    as_generator,
    bootstrap_totals,
    check_level,
    check_rounds,
    cluster_codes,
    cluster_count_matrix,
    coded_values,
    percentile_intervals,
)

VERDICT_CODES = (-1, 0, 1)
LOSS, TIE, WIN = -1, 0, 1


@dataclass(frozen=True, slots=True)
class WinTieLoss:
    """Shares of target wins / ties / losses over all judgments of one slice.

    Shares are fractions of judgments (0..1). Intervals come from a bootstrap that resamples
    prompts with replacement (all judgments of a drawn prompt come along). The sign test is
    an exact two-sided binomial test of wins vs losses (ties dropped) against 1/2; it treats
    judgments as independent, so with several judgments per prompt aggregate first if that
    matters.
    """

    n_judgments: int
    n_prompts: int
    wins: int
    ties: int
    losses: int
    win_share: float
    tie_share: float
    loss_share: float
    equivalent_or_preferred: float
    win_interval: Interval
    tie_interval: Interval
    loss_interval: Interval
    equivalent_or_preferred_interval: Interval
    sign_test_p_value: float
    level: float
    rounds: int


def sign_test_p_value(wins: int, losses: int) -> float:
    """Exact two-sided binomial p-value of wins among wins + losses vs 1/2 (1.0 if none)."""
    decisive = wins + losses
    if decisive == 0:
        return 1.0
    return float(binomtest(wins, decisive, 0.5, alternative="two-sided").pvalue)


def win_tie_loss(
    verdicts: ArrayLike,
    prompt_ids: ArrayLike | None = None,
    *,
    rounds: int = DEFAULT_ROUNDS,
    level: float = DEFAULT_LEVEL,
    seed: SeedLike = None,
) -> WinTieLoss:
    """Win/tie/loss shares with prompt-clustered bootstrap intervals and a sign test.

    verdicts: (n,) ints in {-1, 0, 1}, target's perspective.
    prompt_ids: (n,) cluster labels; None treats every judgment as its own prompt.
    rounds: bootstrap rounds; level: interval coverage; seed: int or numpy Generator.
    """
    level = check_level(level)
    rounds = check_rounds(rounds)
    codes = coded_values(verdicts, VERDICT_CODES, "verdicts")  # 0 loss, 1 tie, 2 win
    n = int(codes.size)
    if n == 0:
        raise ValueError("win_tie_loss needs at least one verdict")
    clusters, n_prompts = cluster_codes(prompt_ids, n)
    count_matrix = cluster_count_matrix(clusters, codes, n_prompts, 3)
    losses, ties, wins = (int(c) for c in count_matrix.sum(axis=0))

    totals = bootstrap_totals(count_matrix, rounds, as_generator(seed))
    boot_shares = totals / totals.sum(axis=1, keepdims=True)
    # columns: win, tie, loss, win + tie
    samples = np.column_stack(
        [
            boot_shares[:, 2],
            boot_shares[:, 1],
            boot_shares[:, 0],
            boot_shares[:, 2] + boot_shares[:, 1],
        ]
    )
    win_iv, tie_iv, loss_iv, eop_iv = percentile_intervals(samples, level)
    return WinTieLoss(
        n_judgments=n,
        n_prompts=n_prompts,
        wins=wins,
        ties=ties,
        losses=losses,
        win_share=wins / n,
        tie_share=ties / n,
        loss_share=losses / n,
        equivalent_or_preferred=(wins + ties) / n,
        win_interval=win_iv,
        tie_interval=tie_iv,
        loss_interval=loss_iv,
        equivalent_or_preferred_interval=eop_iv,
        sign_test_p_value=sign_test_p_value(wins, losses),
        level=level,
        rounds=rounds,
    )


def win_tie_loss_by_slice(
    verdicts: ArrayLike,
    prompt_ids: ArrayLike | None,
    *,
    baselines: ArrayLike,
    groups: ArrayLike,
    rounds: int = DEFAULT_ROUNDS,
    level: float = DEFAULT_LEVEL,
    seed: SeedLike = None,
) -> dict[tuple[Hashable, Hashable], WinTieLoss]:
    """`win_tie_loss` for every (baseline, judge group) slice present, in sorted key order.

    All arrays are aligned (n,). Each slice resamples its own prompts, using the i-th child
    generator spawned from `seed` for the i-th slice in sorted key order; calling
    `win_tie_loss` on that slice's rows with that child gives the same result.
    """
    verdict_arr = np.asarray(verdicts)
    n = verdict_arr.shape[0] if verdict_arr.ndim == 1 else -1
    baseline_arr, group_arr = np.asarray(baselines), np.asarray(groups)
    if baseline_arr.shape != (n,) or group_arr.shape != (n,):
        raise ValueError("verdicts, baselines and groups must be aligned 1-d arrays")
    prompt_arr = None if prompt_ids is None else np.asarray(prompt_ids)
    baseline_names, baseline_codes = np.unique(baseline_arr, return_inverse=True)
    group_names, group_codes = np.unique(group_arr, return_inverse=True)
    slice_codes = baseline_codes.reshape(n) * group_names.size + group_codes.reshape(n)
    order = np.argsort(slice_codes, kind="stable")
    present, starts = np.unique(slice_codes[order], return_index=True)
    children = as_generator(seed).spawn(present.size)
    results: dict[tuple[Hashable, Hashable], WinTieLoss] = {}
    for slice_code, rows, child in zip(present, np.split(order, starts[1:]), children, strict=True):
        key = (
            baseline_names[slice_code // group_names.size].item(),
            group_names[slice_code % group_names.size].item(),
        )
        results[key] = win_tie_loss(
            verdict_arr[rows],
            None if prompt_arr is None else prompt_arr[rows],
            rounds=rounds,
            level=level,
            seed=child,
        )
    return results
