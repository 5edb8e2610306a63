"""Simulated raters with a planted truth, written straight into a launched pairwise study
(judgments and completed sessions, bulk-created; the pool's counts kept consistent).

Kinds: "honest" (the planted truth 85% of the time, else the opposite side), "random"
(A, B or tie uniformly), "left" (always the left answer) and "fast" (random, and far too
fast). The truth: the target wins an item with probability TRUTH_WIN, else it loses."""

from __future__ import annotations

import secrets
from collections import Counter

import numpy as np

from evalhub.rating.models import ItemPage, RaterSession
from evalhub.studies.models import Item, Judgment, Rater, Study

TRUTH_WIN = 0.7
HONEST_ACCURACY = 0.85
# What an honest rater's judgments share as wins, on average: the planted truth seen
# through their 15% of mistakes.
HONEST_WIN_SHARE = TRUTH_WIN * HONEST_ACCURACY + (1 - TRUTH_WIN) * (1 - HONEST_ACCURACY)


def simulate(
    study: Study, kinds: dict[str, int], per_rater: int, seed: int = 0
) -> dict[str, list[int]]:
    """Add raters of each kind (count), each judging `per_rater` distinct real items.
    Returns {kind: [rater ids]} and leaves ItemPage.taken = judgments per item."""
    rng = np.random.default_rng(seed)
    items = np.array(
        Item.objects.filter(study=study, is_gold=False).order_by("id").values_list("id", flat=True)
    )
    truth_win = rng.random(items.size) < TRUTH_WIN
    made: dict[str, list[int]] = {}
    judgments: list[Judgment] = []
    for kind, count in kinds.items():
        for _ in range(count):
            rater = Rater.objects.create(
                group=Rater.Group.CROWD, external_id_hash=secrets.token_hex(32)
            )
            made.setdefault(kind, []).append(rater.pk)
            RaterSession.objects.create(
                study=study, rater=rater, token=secrets.token_urlsafe(32), quota=per_rater,
                done=per_rater, status=RaterSession.Status.COMPLETED,
            )  # fmt: skip
            picked = rng.choice(items.size, size=per_rater, replace=False)
            sides = rng.choice(np.array(["A", "B"]), size=per_rater)
            for idx, side in zip(picked.tolist(), sides.tolist(), strict=True):
                if kind == "honest":
                    right = rng.random() < HONEST_ACCURACY
                    target_wins = truth_win[idx] == right
                    choice = side if target_wins else ("B" if side == "A" else "A")
                elif kind == "left":
                    choice = "A"
                else:
                    choice = str(rng.choice(["A", "B", "tie"]))
                verdict = "tie" if choice == "tie" else ("target" if choice == side else "baseline")
                ms = (
                    int(rng.integers(500, 1500))
                    if kind == "fast"
                    else int(rng.integers(15_000, 90_000))
                )
                judgments.append(Judgment(
                    item_id=int(items[idx]), rater=rater, judge_group="crowd",
                    order="target_first" if side == "A" else "baseline_first", raw_choice=choice,
                    verdict=verdict, time_on_task_ms=ms, too_fast=kind == "fast",
                ))  # fmt: skip
    Judgment.objects.bulk_create(judgments, batch_size=2000)
    per_item = Counter(j.item_id for j in judgments)
    for item_id, n in per_item.items():
        ItemPage.objects.filter(item_id=item_id).update(taken=n)
        Item.objects.filter(pk=item_id).update(judgment_count=n)
    return made


def planted_truth_win_share(study: Study, seed: int = 0) -> float:
    """The share of real items where the planted truth has the target win."""
    rng = np.random.default_rng(seed)
    n = Item.objects.filter(study=study, is_gold=False).count()
    return float((rng.random(n) < TRUTH_WIN).mean())
