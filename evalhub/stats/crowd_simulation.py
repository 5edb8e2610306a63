"""Simulated crowd studies with a known truth, to choose and check crowd-quality methods.

A study has `n_items` items, each judged by `k` raters; every rater takes a quota of
`quota` items (drawn per study from a band, e.g. 10-20). A share of the raters are
spammers of five kinds seen on crowd platforms; the rest are honest, of mixed skill. The
left/right order is counterbalanced per judgment, as the rating pages do.

Classes: pairwise baseline 0, tie 1, target 2; Fail / Pass / Excellent 0, 1, 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SPAMMER_KINDS = ("always_left", "uniform", "always_tie", "too_fast", "lazy")
HONEST = "honest"
HONEST_SKILL = (0.70, 0.95)  # P(right) on an item with a clear answer
HONEST_TIE = 0.05  # an honest pairwise rater's ties on items with a clear winner
HONEST_SECONDS = (4.0, 8.0)  # a rater's typical time per item; per item lognormal around it
PAIRWISE_TRUTH = (0.35, 0.10, 0.55)  # baseline better, a true tie, target better
LABEL_TRUTH = (0.25, 0.45, 0.30)  # Fail, Pass, Excellent
LONGER_IS_BETTER = 0.6  # P(the longer answer is the better one): what a lazy rater follows
SPAMMER_SECONDS = {
    "always_left": (3.0, 8.0),
    "uniform": (3.0, 8.0),
    "always_tie": (0.5, 1.0),
    "too_fast": (0.3, 1.2),
    "lazy": (1.0, 3.0),  # skims: reads only the answers' lengths
}


@dataclass(frozen=True)
class SimulatedStudy:
    """One judgment per entry (`item`, `rater` codes, `label` class, `chose_left` and
    `sided` for pairwise, `time_ms`); per item `truth`; per rater `kind`."""

    scale: str  # "pairwise" or "label"
    item: NDArray[np.int64]
    rater: NDArray[np.int64]
    label: NDArray[np.int64]
    chose_left: NDArray[np.bool_]
    sided: NDArray[np.bool_]
    time_ms: NDArray[np.float64]
    truth: NDArray[np.int64]
    kind: NDArray[np.str_]

    @property
    def n_items(self) -> int:
        return int(self.truth.size)

    @property
    def n_raters(self) -> int:
        return int(self.kind.size)

    @property
    def spammer(self) -> NDArray[np.bool_]:
        return self.kind != HONEST


def _slots(rng: np.random.Generator, n_items: int, k: int, quota: int) -> tuple[NDArray, NDArray]:
    """(item, rater) pairs: k rounds over the items in random order, cut into quotas; a
    rater never gets one item twice (a repeat within a quota is dropped)."""
    order = np.concatenate([rng.permutation(n_items) for _ in range(k)])
    rater = np.arange(order.size) // quota
    pair = rater * n_items + order
    _, first = np.unique(pair, return_index=True)
    keep = np.sort(first)
    return order[keep].astype(np.int64), rater[keep].astype(np.int64)


def simulate_study(
    seed: int, *, scale: str, k: int, quota_band: tuple[int, int], spammer_share: float,
    n_items: int = 60,
) -> SimulatedStudy:  # fmt: skip
    """A seeded study (see the module docstring)."""
    rng = np.random.default_rng(seed)
    quota = int(rng.integers(quota_band[0], quota_band[1] + 1))
    item, rater = _slots(rng, n_items, k, quota)
    n_raters = int(rater.max()) + 1
    n_spam = max(1, round(spammer_share * n_raters))
    kinds = np.full(n_raters, HONEST, dtype=object)
    start = int(rng.integers(len(SPAMMER_KINDS)))
    spam_raters = rng.choice(n_raters, n_spam, replace=False)
    for j, r in enumerate(spam_raters):
        kinds[r] = SPAMMER_KINDS[(start + j) % len(SPAMMER_KINDS)]
    kind = kinds[rater]
    truth_p = PAIRWISE_TRUTH if scale == "pairwise" else LABEL_TRUTH
    truth = rng.choice(3, n_items, p=truth_p).astype(np.int64)
    t = truth[item]
    n = item.size
    skill = rng.uniform(*HONEST_SKILL, n_raters)[rater]
    u = rng.random(n)
    if scale == "pairwise":
        target_left = rng.random(n) < 0.5
        clear = t != 1
        wrong_side = 2 - t
        honest = np.where(
            clear,
            np.where(u < skill, t, np.where(u < skill + HONEST_TIE, 1, wrong_side)),
            # a true tie: called a tie half the time, else either side
            np.where(u < 0.5, 1, np.where(u < 0.75, 0, 2)),
        )
        better_longer = rng.random(n_items) < LONGER_IS_BETTER
        longer_target = np.where(truth != 1, better_longer == (truth == 2),
                                 rng.random(n_items) < 0.5)[item]  # fmt: skip
        by_kind = {
            "always_left": np.where(target_left, 2, 0),
            "uniform": rng.integers(0, 3, n),
            "always_tie": np.ones(n, dtype=np.int64),
            "too_fast": rng.integers(0, 3, n),
            "lazy": np.where(longer_target, 2, 0),
        }
    else:
        target_left = np.zeros(n, dtype=bool)
        near = np.where(t == 1, np.where(rng.random(n) < 0.5, 0, 2), 1)
        honest = np.where(u < skill, t, near)
        long_answer = (rng.random(n_items) < LONGER_IS_BETTER) == (truth == 2)
        by_kind = {
            "always_left": np.zeros(n, dtype=np.int64),  # the first option: Fail
            "uniform": rng.integers(0, 3, n),
            "always_tie": np.ones(n, dtype=np.int64),  # always the middle: Pass
            "too_fast": rng.integers(0, 3, n),
            "lazy": np.where(long_answer[item], 2, 0),
        }
    label = honest.astype(np.int64)
    for name, values in by_kind.items():
        mine = kind == name
        label[mine] = values[mine]
    seconds = rng.uniform(*HONEST_SECONDS, n_raters)
    for name, band in SPAMMER_SECONDS.items():
        mine = kinds == name
        seconds[mine] = rng.uniform(*band, int(mine.sum()))
    time_ms = 1000 * seconds[rater] * rng.lognormal(0.0, 0.35, n)
    sided = (label != 1) if scale == "pairwise" else np.zeros(n, dtype=bool)
    chose_left = sided & ((label == 2) == target_left)
    return SimulatedStudy(
        scale=scale, item=item, rater=rater, label=label, chose_left=chose_left,
        sided=sided, time_ms=time_ms, truth=truth, kind=kinds.astype(str),
    )  # fmt: skip
