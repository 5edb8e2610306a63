"""Pair and model choice for live studies (pure)."""

import random
from collections import Counter

from evalhub.live.pairing import all_pairs, left_first, next_model, next_pair


def test_every_pair_reaches_its_target_before_any_goes_over():
    pairs, counts, rng = all_pairs([1, 2, 3, 4]), Counter(), random.Random(0)
    for _ in range(6 * 5):
        counts[next_pair(pairs, counts, 5, rng)] += 1
    assert sorted(counts.values()) == [5] * 6


def test_adaptive_battles_the_least_certain_model_and_keeps_a_floor_under_every_pair():
    pairs, rng, counts = all_pairs([1, 2, 3]), random.Random(0), Counter()
    ratings = {1: 0.0, 2: 1.0, 3: 3.0}  # 3 is far ahead: each battle of it teaches little,
    for _ in range(60):  # so its rating stays the least certain and gets the most battles
        counts[next_pair(pairs, counts, 100, rng, ratings)] += 1
    assert counts[(2, 3)] == max(counts.values()) > 20  # 2 is 3's closer opponent
    # Every pair keeps at least half its uniform share (60 / 3 pairs / 2).
    assert min(counts.values()) >= 10 - 1
    # A pair at its target is not chosen while another is short.
    assert next_pair(pairs, {(1, 2): 5, (1, 3): 0, (2, 3): 0}, 5, rng, ratings) != (1, 2)


def test_conversations_go_to_the_least_used_model():
    rng, counts = random.Random(1), Counter()
    for _ in range(9):
        counts[next_model([7, 8, 9], counts, rng)] += 1
    assert counts == {7: 3, 8: 3, 9: 3}


def test_sides_alternate_per_pair():
    assert [left_first(n) for n in range(4)] == [True, False, True, False]
