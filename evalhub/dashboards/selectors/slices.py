"""Win / tie / loss and the weighted win rate for every (baseline, judge group) slice of a
study from ONE prompt resample.

evalhub.stats.win_tie_loss_by_slice draws fresh multinomial weights per slice; with 20 slices
over 2,000 prompts that is most of a cold dashboard load. Here all slices share the study's
prompt resample (rounds x prompts weights, drawn once as counts of uniform prompt draws,
which is the same distribution as a multinomial), and one matrix product gives every
slice's bootstrap totals. Sharing the draw is the joint bootstrap of the study: slices judged
on the same prompts move together, as they should when they are compared. A slice whose
prompts are only part of the study gets a random number of them per round (a ratio
bootstrap); rounds that draw none of them are left out of its percentiles.
Point estimates, counts and the sign test are exactly evalhub.stats.win_tie_loss's; the
weighted win rate's mean and standard error are exactly evalhub.stats.weighted_win_rate's
(AlpacaEval's), its interval the same ratio bootstrap of preference sums over counts.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable

import numpy as np
from numpy.typing import NDArray

from evalhub.stats import WinTieLoss, sign_test_p_value
from evalhub.stats.bootstrap import Interval, as_generator, cluster_codes
from evalhub.stats.preference import WeightedWinRate


@functools.lru_cache(maxsize=1)
def shared_resample_weights(n_prompts: int, rounds: int, seed: int) -> NDArray[np.float64]:
    """W[b, p] = times prompt p is drawn in round b (each row sums to n_prompts). Read-only
    and kept for the next call: one results compute asks it for its win / tie / loss and its
    weighted slices, which share the prompts."""
    draws = as_generator(seed).integers(0, n_prompts, size=(rounds, n_prompts))
    draws += (np.arange(rounds) * n_prompts)[:, None]
    counts = np.bincount(draws.ravel(), minlength=rounds * n_prompts)
    weights = counts.reshape(rounds, n_prompts).astype(np.float64)
    weights.flags.writeable = False
    return weights


def _slice_codes(
    prompt_ids: NDArray, baselines: NDArray, groups: NDArray
) -> tuple[NDArray, int, NDArray, NDArray, NDArray, NDArray]:
    """(prompt codes, n_prompts, baseline names, group names, slices present, slice codes)."""
    prompts, n_prompts = cluster_codes(prompt_ids, prompt_ids.size)
    baseline_names, b_codes = np.unique(baselines, return_inverse=True)
    group_names, g_codes = np.unique(groups, return_inverse=True)
    present, slice_codes = np.unique(
        b_codes.reshape(-1) * group_names.size + g_codes.reshape(-1), return_inverse=True
    )
    return prompts, n_prompts, baseline_names, group_names, present, slice_codes.reshape(-1)


def _key(code: int, baseline_names: NDArray, group_names: NDArray) -> tuple[Hashable, Hashable]:
    return (
        baseline_names[code // group_names.size].item(),
        group_names[code % group_names.size].item(),
    )


def _interval(samples: NDArray[np.float64], level: float) -> Interval:
    tail = (1.0 - level) / 2.0
    low, high = np.nanquantile(samples, [tail, 1.0 - tail])
    return Interval(float(low), float(high), level, "cluster-bootstrap-percentile")


def win_tie_loss_slices(
    verdicts: NDArray[np.int64],
    prompt_ids: NDArray[np.int64],
    baselines: NDArray,
    groups: NDArray,
    *,
    rounds: int,
    seed: int,
    level: float = 0.95,
) -> dict[tuple[Hashable, Hashable], WinTieLoss]:
    """WinTieLoss per (baseline, group) slice present, in sorted key order; intervals from
    one shared prompt resample. verdicts: (n,) -1/0/1; prompt_ids, baselines, groups: (n,)."""
    prompts, n_prompts, baseline_names, group_names, present, slice_codes = _slice_codes(
        prompt_ids, baselines, groups
    )
    n_slices = present.size
    # C[p, s * 3 + k] = judgments of slice s on prompt p with verdict code k (0 loss .. 2 win)
    cells = (prompts * n_slices + slice_codes) * 3 + (verdicts + 1)
    counts = np.bincount(cells, minlength=n_prompts * n_slices * 3).astype(np.float64)
    counts = counts.reshape(n_prompts, n_slices * 3)
    totals = shared_resample_weights(n_prompts, rounds, seed) @ counts
    totals = totals.reshape(rounds, n_slices, 3)
    observed = counts.sum(axis=0).reshape(n_slices, 3)
    prompts_per_slice = (counts.reshape(n_prompts, n_slices, 3).sum(axis=2) > 0).sum(axis=0)
    results: dict[tuple[Hashable, Hashable], WinTieLoss] = {}
    for s, code in enumerate(present.tolist()):
        key = _key(code, baseline_names, group_names)
        losses, ties, wins = (int(x) for x in observed[s])
        total = wins + ties + losses
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = totals[:, s, :] / totals[:, s, :].sum(axis=1, keepdims=True)
        results[key] = WinTieLoss(
            n_judgments=total,
            n_prompts=int(prompts_per_slice[s]),
            wins=wins,
            ties=ties,
            losses=losses,
            win_share=wins / total,
            tie_share=ties / total,
            loss_share=losses / total,
            equivalent_or_preferred=(wins + ties) / total,
            win_interval=_interval(boot[:, 2], level),
            tie_interval=_interval(boot[:, 1], level),
            loss_interval=_interval(boot[:, 0], level),
            equivalent_or_preferred_interval=_interval(boot[:, 2] + boot[:, 1], level),
            sign_test_p_value=sign_test_p_value(wins, losses),
            level=level,
            rounds=rounds,
        )
    return dict(sorted(results.items()))


def weighted_slices(
    preference: NDArray[np.float64],
    prompt_ids: NDArray[np.int64],
    baselines: NDArray,
    groups: NDArray,
    *,
    rounds: int,
    seed: int,
    level: float = 0.95,
) -> dict[tuple[Hashable, Hashable], WeightedWinRate]:
    """WeightedWinRate per (baseline, group) slice present, in sorted key order; intervals
    from the shared prompt resample. preference: (n,) in [0, 1]; the rest (n,) labels."""
    prompts, n_prompts, baseline_names, group_names, present, slice_codes = _slice_codes(
        prompt_ids, baselines, groups
    )
    n_slices = present.size
    # C[p, s * 2] = preference summed over slice s's rows on prompt p; C[p, s * 2 + 1] = rows
    cells = (prompts * n_slices + slice_codes) * 2
    size = n_prompts * n_slices * 2
    sums = np.bincount(cells, weights=preference, minlength=size)
    sums += np.bincount(cells + 1, minlength=size)
    totals = shared_resample_weights(n_prompts, rounds, seed) @ sums.reshape(n_prompts, -1)
    totals = totals.reshape(rounds, n_slices, 2)
    results: dict[tuple[Hashable, Hashable], WeightedWinRate] = {}
    for s, code in enumerate(present.tolist()):
        mine = preference[slice_codes == s]
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = totals[:, s, 0] / totals[:, s, 1]
        se = float(mine.std(ddof=1) / np.sqrt(mine.size)) if mine.size > 1 else float("nan")
        results[_key(code, baseline_names, group_names)] = WeightedWinRate(
            n=int(mine.size),
            win_rate=float(mine.mean()),
            standard_error=se,
            interval=_interval(boot, level),
            rounds=rounds,
        )
    return dict(sorted(results.items()))
