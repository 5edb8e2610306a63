"""Which model (conversations) or pair of models (battles) a new session gets, and which
side each is shown on. Pure functions: counts in, a choice out."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from itertools import combinations

from evalhub.stats.pairing_design import information_pair

Pair = tuple[int, int]


def all_pairs(model_ids: Sequence[int]) -> list[Pair]:
    """Every unordered pair of the study's models, in the study's order (target first)."""
    return list(combinations(model_ids, 2))


def next_model(model_ids: Sequence[int], counts: Mapping[int, int], rng: random.Random) -> int:
    """The model with the fewest conversations so far (ties drawn at random), so models
    stay balanced across raters."""
    fewest = min(counts.get(m, 0) for m in model_ids)
    return rng.choice([m for m in model_ids if counts.get(m, 0) == fewest])


def next_pair(
    pairs: Sequence[Pair],
    counts: Mapping[Pair, int],
    target: int,
    rng: random.Random,
    ratings: Mapping[int, float] | None = None,
) -> Pair:
    """The pair to battle next. Pairs short of `target` come first; among them the fewest
    battles so far (uniform), or with `ratings` (adaptive: each model's current BT rating,
    natural logit units; a model without one counts as 0) the pair whose battle most
    narrows the intervals (evalhub.stats.pairing_design.information_pair, which keeps every
    pair at least half its uniform share). Once every pair has its target, the same rule
    runs over all pairs. Adaptive is off by default: simulated with a known truth it does
    not narrow the intervals over uniform (the table is in pairing_design's docstring)."""
    short = [p for p in pairs if counts.get(p, 0) < target] or list(pairs)
    if ratings is not None:
        models = sorted({m for p in short for m in p})
        index = {m: k for k, m in enumerate(models)}
        best = information_pair(
            [(index[a], index[b]) for a, b in short],
            [counts.get(p, 0) for p in short],
            [ratings.get(m, 0.0) for m in models],
        )
        short = [short[k] for k in best]
    fewest = min(counts.get(p, 0) for p in short)
    return rng.choice([p for p in short if counts.get(p, 0) == fewest])


def left_first(battles_of_pair: int) -> bool:
    """Counterbalancing: the pair's first model is shown on the left in its even-numbered
    battles and on the right in the odd ones, so each side gets half."""
    return battles_of_pair % 2 == 0
