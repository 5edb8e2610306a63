"""Pair and model choice for live studies (pure)."""

import random
from collections import Counter

from evalhub.live.pairing import all_pairs, left_first, next_model, next_pair


def test_every_pair_reaches_its_target_before_any_goes_over():
    pairs, counts, rng = all_pairs([1, 2, 3, 4]), Counter(), random.Random(0)
    for _ in range(6 * 5):
        counts[next_pair(pairs, counts, 5, rng)] += 1
    assert sorted(counts.values()) == [5] * 6


def test_adaptive_favours_the_widest_intervals_among_short_pairs():
    pairs, rng = all_pairs([1, 2, 3]), random.Random(0)
    widths = {1: 50.0, 2: 300.0, 3: 400.0}
    assert next_pair(pairs, {(1, 2): 3, (1, 3): 0, (2, 3): 0}, 5, rng, widths) == (2, 3)
    # A pair at its target is not chosen while another is short, however wide.
    assert next_pair(pairs, {(1, 2): 0, (1, 3): 0, (2, 3): 5}, 5, rng, widths) == (1, 3)
    # A model with no rating yet is infinitely uncertain.
    assert next_pair(pairs, {}, 5, rng, {1: 10.0, 2: 10.0}) in {(1, 3), (2, 3)}


def test_conversations_go_to_the_least_used_model():
    rng, counts = random.Random(1), Counter()
    for _ in range(9):
        counts[next_model([7, 8, 9], counts, rng)] += 1
    assert counts == {7: 3, 8: 3, 9: 3}


def test_sides_alternate_per_pair():
    assert [left_first(n) for n in range(4)] == [True, False, True, False]
