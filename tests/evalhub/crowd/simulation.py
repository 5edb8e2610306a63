"""Simulated raters with a planted truth, written straight into a launched pairwise study
(judgments and completed sessions, bulk-created; the pool's counts kept consistent).

Kinds: "honest" (the planted truth 85% of the time, else the opposite side), "random"
(A, B or tie uniformly), "left" (always the left answer) and "fast" (random, and far too
fast). The truth of an item: the target loses, ties or wins with the shares TRUTH."""

from __future__ import annotations

import secrets
from collections import Counter

import numpy as np
from django.utils import timezone

from evalhub.rating.models import ItemPage, RaterSession
from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study

TRUTH = (0.25, 0.15, 0.6)  # loss, tie, win
HONEST_ACCURACY = 0.85


def honest_win_share(truth_win_share: float) -> float:
    """What honest raters' judgments share as wins, on average, where the planted truth has
    the target win this share of items: the truth seen through their 15% of mistakes
    (spread evenly over the two other verdicts)."""
    mistakes = (1 - HONEST_ACCURACY) / 2
    return truth_win_share * HONEST_ACCURACY + (1 - truth_win_share) * mistakes


def simulate(
    study: Study, kinds: dict[str, int], per_rater: int, seed: int = 0
) -> dict[str, list[int]]:
    """Add raters of each kind (count), each judging `per_rater` distinct real items.
    Returns {kind: [rater ids]} and leaves ItemPage.taken = judgments per item."""
    rng = np.random.default_rng(seed)
    items = np.array(
        Item.objects.filter(study=study, is_gold=False).order_by("id").values_list("id", flat=True)
    )
    truth = rng.choice(3, size=items.size, p=TRUTH)
    made: dict[str, list[int]] = {}
    judgments: list[Judgment] = []
    assignments: list[Assignment] = []
    now = timezone.now()
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
                other = "B" if side == "A" else "A"
                if kind == "honest":
                    said = int(truth[idx])
                    if rng.random() >= HONEST_ACCURACY:
                        said = (said + int(rng.integers(1, 3))) % 3
                    choice = (other, "tie", side)[said]
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
                assignment = Assignment(
                    item_id=int(items[idx]),
                    rater=rater,
                    target_side=side,
                    status="submitted",
                    reserved_at=now,
                    expires_at=now,
                    submitted_at=now,
                )
                assignments.append(assignment)
                judgments.append(Judgment(
                    item_id=int(items[idx]), rater=rater, judge_group="crowd", assignment=assignment,
                    order="target_first" if side == "A" else "baseline_first", raw_choice=choice,
                    verdict=verdict, time_on_task_ms=ms, too_fast=kind == "fast",
                ))  # fmt: skip
    Assignment.objects.bulk_create(assignments, batch_size=2000)
    for judgment in judgments:  # the assignment ids, known now
        judgment.assignment_id = judgment.assignment.pk
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
    return float((rng.choice(3, size=n, p=TRUTH) == 2).mean())
