"""Which model (conversations) or pair of models (battles) a new session gets, and which
side each is shown on. Pure functions: counts in, a choice out."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from itertools import combinations

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
    widths: Mapping[int, float] | None = None,
) -> Pair:
    """The pair to battle next. Pairs short of `target` come first; among them the fewest
    battles so far, or with `widths` (adaptive: each model's Bradley-Terry interval width)
    the widest summed interval, a model without a rating counting as infinitely wide.
    Once every pair has its target, the least-battled pair keeps things balanced."""
    short = [p for p in pairs if counts.get(p, 0) < target] or list(pairs)
    if widths is not None:

        def width(p: Pair) -> float:
            return widths.get(p[0], math.inf) + widths.get(p[1], math.inf)

        widest = max(width(p) for p in short)
        short = [p for p in short if width(p) == widest]
    fewest = min(counts.get(p, 0) for p in short)
    return rng.choice([p for p in short if counts.get(p, 0) == fewest])


def left_first(battles_of_pair: int) -> bool:
    """Counterbalancing: the pair's first model is shown on the left in its even-numbered
    battles and on the right in the odd ones, so each side gets half."""
    return battles_of_pair % 2 == 0
