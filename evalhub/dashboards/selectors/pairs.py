"""LLM judges see every pairwise item in both orders; combine the two verdicts per item.

Same rules as generation.judging.selectors.combine_orders (which works per item in Python),
vectorised here over a whole study: when an LLM group has exactly one parsed verdict in each
order on an item, a consistent pair counts once; an inconsistent pair counts as a tie
("tie"), not at all ("drop"), or as both verdicts ("keep_both"). Anything else (one order
only, imported single verdicts, duplicates) counts judgment by judgment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evalhub.dashboards.selectors.frames import JudgmentTable

try:  # the judge engineer's list of policies, when that app is installed
    from generation.judging.selectors import INCONSISTENT_PAIR_POLICIES
except ImportError:  # pragma: no cover - generation is part of the project
    INCONSISTENT_PAIR_POLICIES = ("tie", "drop", "keep_both")


@dataclass(frozen=True)
class OrderPairs:
    """Per LLM group and item with both orders: the target-first and baseline-first verdicts
    (target perspective), index-aligned."""

    group: NDArray[np.intp]
    item: NDArray[np.intp]
    target_first: NDArray[np.int64]
    baseline_first: NDArray[np.int64]


def order_pairs(table: JudgmentTable, rows: NDArray[np.bool_]) -> tuple[OrderPairs, NDArray]:
    """Find (group, item) keys among `rows` with exactly one verdict in each order.

    Returns the pairs and a boolean mask over the table of the rows that belong to a pair.
    """
    n_items = int(table.item.max(initial=-1)) + 1
    key = table.group.astype(np.int64) * max(n_items, 1) + table.item
    tf = rows & (table.order == 1)
    bf = rows & (table.order == -1)
    keys, inverse = np.unique(key[rows], return_inverse=True)
    slot = np.full(table.item.size, -1, dtype=np.intp)
    slot[rows] = inverse.reshape(-1)
    tf_count = np.bincount(slot[tf], minlength=keys.size)
    bf_count = np.bincount(slot[bf], minlength=keys.size)
    other = np.bincount(slot[rows & (table.order == 0)], minlength=keys.size)
    paired_key = (tf_count == 1) & (bf_count == 1) & (other == 0)
    in_pair = np.zeros(table.item.size, dtype=bool)
    in_pair[rows] = paired_key[slot[rows]]
    tf_verdict = np.zeros(keys.size, dtype=np.int64)
    bf_verdict = np.zeros(keys.size, dtype=np.int64)
    tf_verdict[slot[in_pair & tf]] = table.verdict[in_pair & tf]
    bf_verdict[slot[in_pair & bf]] = table.verdict[in_pair & bf]
    chosen = np.flatnonzero(paired_key)
    pairs = OrderPairs(
        group=(keys[chosen] // max(n_items, 1)).astype(np.intp),
        item=(keys[chosen] % max(n_items, 1)).astype(np.intp),
        target_first=tf_verdict[chosen],
        baseline_first=bf_verdict[chosen],
    )
    return pairs, in_pair


def combine_llm_orders(table: JudgmentTable, policy: str) -> tuple[JudgmentTable, OrderPairs]:
    """The table with each LLM group's order pairs replaced by their combined verdicts.

    `table` holds pairwise judgments only. Combined rows have order 0. Returns the new table
    and the pairs found (for swap consistency).
    """
    if policy not in INCONSISTENT_PAIR_POLICIES:
        raise ValueError(f"inconsistent pair policy {policy!r}, use {INCONSISTENT_PAIR_POLICIES}")
    pairs, in_pair = order_pairs(table, table.is_llm())
    same = pairs.target_first == pairs.baseline_first
    if policy == "tie":
        group, item = pairs.group, pairs.item
        verdict = np.where(same, pairs.target_first, 0)
    elif policy == "drop":
        group, item, verdict = pairs.group[same], pairs.item[same], pairs.target_first[same]
    else:  # keep_both: one row if consistent, both if not
        flip = ~same
        group = np.concatenate([pairs.group, pairs.group[flip]])
        item = np.concatenate([pairs.item, pairs.item[flip]])
        verdict = np.concatenate([pairs.target_first, pairs.baseline_first[flip]])
    keep = ~in_pair
    combined = JudgmentTable(
        item=np.concatenate([table.item[keep], item]),
        group=np.concatenate([table.group[keep], group]),
        group_names=table.group_names,
        verdict=np.concatenate([table.verdict[keep], verdict]),
        order=np.concatenate([table.order[keep], np.zeros(item.size, dtype=np.int64)]),
        score=np.concatenate([table.score[keep], np.full(item.size, np.nan)]),
    )
    return combined, pairs
