"""Judgment rows of one study as numpy arrays, read with values_list (no model instances).

Judgments are read grouped by (judge group, verdict, order, score) with their item ids
aggregated into one array per group (ARRAY_AGG), then expanded with np.repeat: Python never
sees one row per judgment. Item facts (prompt, category) are read once per item, models and
output lengths once per output, and joined by index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Aggregate, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Length
from numpy.typing import NDArray

from evalhub.outputs.models import Output
from evalhub.studies.models import Item, Judgment, Study

# Pairwise verdicts from the target's side; labels 0 Fail, 1 Pass, 2 Excellent.
PAIRWISE_CODES = {"target": 1, "tie": 0, "baseline": -1}
LABEL_CODES = {"fail": 0, "pass": 1, "excellent": 2}
NO_CODE = -9
ORDER_CODES = {"target_first": 1, "baseline_first": -1}  # anything else: 0 (single/unknown)
LLM_PREFIX = "llm:"
# Parse failures and failed calls are not verdicts; attention checks are not about the models.
EXCLUDED_PARSE_STATES = (Judgment.ParseState.FAILED, Judgment.ParseState.ERROR)


def array_agg(expression: Any, *, ordered: bool = False) -> Aggregate:
    """ARRAY_AGG, ordered by id when asked (else in no promised order)."""
    return ArrayAgg(expression, order_by="id") if ordered else ArrayAgg(expression)


def as_list(value: Any) -> list[Any]:
    return list(value or [])


def column_arrays(rows: list[tuple], dtypes: tuple[Any, ...]) -> list[NDArray]:
    """The columns of values_list rows as arrays of `dtypes` (None reads as NaN in a float
    column). Through one object array: zip(*rows) over 100k rows cost 7x more here, in the
    collector's passes over the rows' tuples."""
    table = np.array(rows, dtype=object).reshape(len(rows), len(dtypes))
    return [table[:, i].astype(dtype) for i, dtype in enumerate(dtypes)]


def counted_judgments(study_filter: Q) -> Q:
    """The judgments that count in results: no gold items, attention checks, failed parses
    or judgments of excluded raters."""
    return (
        study_filter
        & Q(item__is_gold=False, is_attention_check=False, excluded=False)
        & ~Q(parse_state__in=EXCLUDED_PARSE_STATES)
    )


@dataclass(frozen=True)
class ItemTable:
    """Per-item facts, index-aligned; `index_of(ids)` maps item ids to rows."""

    ids: NDArray[np.int64]
    prompt: NDArray[np.int64]
    category: NDArray[np.str_]
    target_model: NDArray[np.str_]
    baseline_model: NDArray[np.str_]
    length_diff: NDArray[np.float64]  # characters, target minus baseline (0 if no baseline)

    def index_of(self, item_ids: NDArray[np.int64]) -> NDArray[np.intp]:
        return np.searchsorted(self.ids, item_ids)


@dataclass(frozen=True)
class JudgmentTable:
    """One entry per judgment (expanded from counts). `item` indexes the ItemTable;
    `group` indexes `group_names`. verdict: pairwise code, label code, or NO_CODE."""

    item: NDArray[np.intp]
    group: NDArray[np.intp]
    group_names: tuple[str, ...]
    verdict: NDArray[np.int64]
    order: NDArray[np.int64]
    score: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.item.size)

    def take(self, mask: NDArray[np.bool_]) -> JudgmentTable:
        """The judgments where `mask` is true."""
        return JudgmentTable(
            self.item[mask],
            self.group[mask],
            self.group_names,
            self.verdict[mask],
            self.order[mask],
            self.score[mask],
        )

    def group_labels(self) -> NDArray[np.str_]:
        names = np.array(self.group_names or ("",))
        return names[self.group]

    def is_llm(self) -> NDArray[np.bool_]:
        llm = np.array([name.startswith(LLM_PREFIX) for name in self.group_names] or [False])
        return llm[self.group]


def item_table(study: Study) -> ItemTable:
    """Every real (non-gold) item of the study, sorted by id."""
    real = Item.objects.filter(study=study, is_gold=False)

    # One row of arrays, aggregated in one scan so they stay aligned: no tuple per item.
    found = {
        name: as_list(value)
        for name, value in real.aggregate(
            ids=array_agg("id", ordered=True),
            prompts=array_agg("prompt_id", ordered=True),
            categories=array_agg(Coalesce("prompt__category", Value("")), ordered=True),
            # 0: no output (ids start at 1)
            targets=array_agg(Coalesce("target_output_id", 0), ordered=True),
            baselines=array_agg(Coalesce("baseline_output_id", 0), ordered=True),
        ).items()
    }
    if not found["ids"]:
        empty = np.array([], dtype=str)
        return ItemTable(np.array([], dtype=np.int64), np.array([], dtype=np.int64), empty,
                         empty, empty, np.array([], dtype=np.float64))  # fmt: skip
    by_id = np.argsort(np.array(found["ids"], dtype=np.int64), kind="stable")
    found = {name: np.asarray(values)[by_id] for name, values in found.items()}
    outputs = _output_table(real)
    t_model, t_chars, _ = outputs.lookup(found["targets"].astype(np.int64))
    b_model, b_chars, has_baseline = outputs.lookup(found["baselines"].astype(np.int64))
    return ItemTable(
        ids=found["ids"].astype(np.int64),
        prompt=found["prompts"].astype(np.int64),
        category=found["categories"].astype(str),
        target_model=t_model,
        baseline_model=b_model,
        length_diff=np.where(has_baseline, t_chars - b_chars, 0.0),
    )


@dataclass(frozen=True)
class _OutputTable:
    ids: NDArray[np.int64]  # sorted
    model: NDArray[np.str_]
    chars: NDArray[np.float64]

    def lookup(
        self, output_ids: NDArray[np.int64]
    ) -> tuple[NDArray[np.str_], NDArray[np.float64], NDArray[np.bool_]]:
        """Model slug ("" if none), length in characters (0 if none), and whether found."""
        if self.ids.size == 0:
            return np.full(output_ids.size, ""), np.zeros(output_ids.size), output_ids < 0
        pos = np.minimum(np.searchsorted(self.ids, output_ids), self.ids.size - 1)
        found = self.ids[pos] == output_ids
        return np.where(found, self.model[pos], ""), np.where(found, self.chars[pos], 0.0), found


def _output_table(items: QuerySet[Item]) -> _OutputTable:
    """Model and length of every output of these items, each output once: a target output is
    shared by every baseline of its prompt, and joining whole texts into item rows is slow."""
    used = Q(pk__in=items.values("target_output_id")) | Q(pk__in=items.values("baseline_output_id"))
    rows = list(
        Output.objects.filter(used)
        .values("model__slug")
        .annotate(ids=array_agg("pk", ordered=True), chars=array_agg(Length("text"), ordered=True))
        .order_by()
        .values_list("model__slug", "ids", "chars")
    )
    rows = [(slug, as_list(ids), as_list(chars)) for slug, ids, chars in rows]
    if not rows:
        return _OutputTable(np.array([], dtype=np.int64), np.array([], dtype=str), np.array([]))
    ids = np.concatenate([np.array(r[1], dtype=np.int64) for r in rows])
    chars = np.concatenate([np.array(r[2], dtype=np.float64) for r in rows])
    model = np.repeat(np.array([r[0] or "" for r in rows], dtype=str), [len(r[1]) for r in rows])
    order = np.argsort(ids, kind="stable")
    return _OutputTable(ids[order], model[order], chars[order])


def judgment_table(
    study: Study, items: ItemTable, *, with_turn_labels: bool = False
) -> JudgmentTable:
    """The study's counted judgments, one array entry per judgment.

    with_turn_labels (dialogue studies): each labelled turn becomes its own entry with the
    turn's label as verdict, so Fail / Pass / Excellent shares count turns, as LIMA did."""
    fields = ["judge_group", "verdict", "order", "score"]
    if with_turn_labels:
        fields.append("turn_labels")
    # One row per distinct (group, verdict, order, score) with the item ids aggregated in
    # Postgres: a few dozen rows carrying int arrays instead of a Python tuple per item.
    rows = list(
        Judgment.objects.filter(counted_judgments(Q(item__study=study)))
        .values(*fields)
        .annotate(item_ids=array_agg("item_id"))
        .order_by()
        .values_list(*fields, "item_ids")
    )
    rows = [(*row[:-1], as_list(row[-1])) for row in rows]
    if with_turn_labels:
        rows = _turns_as_rows(rows)
    if not rows:
        none_i, none_c = np.array([], dtype=np.intp), np.array([], dtype=np.int64)
        return JudgmentTable(none_i, none_i, (), none_c, none_c, np.array([], dtype=np.float64))
    groups, verdicts, orders, scores, id_lists = (list(c) for c in zip(*rows, strict=True))
    counts = np.array([len(ids) for ids in id_lists], dtype=np.int64)
    item_ids = np.fromiter(
        (i for ids in id_lists for i in ids), dtype=np.int64, count=int(counts.sum())
    )
    group_names, group_codes = np.unique(np.array(groups, dtype=str), return_inverse=True)
    verdict_codes = np.array(
        [PAIRWISE_CODES.get(v, LABEL_CODES.get(v, NO_CODE)) for v in verdicts], dtype=np.int64
    )
    order_codes = np.array([ORDER_CODES.get(o, 0) for o in orders], dtype=np.int64)
    score_arr = np.array([np.nan if s is None else s for s in scores], dtype=np.float64)
    return JudgmentTable(
        item=items.index_of(item_ids),
        group=np.repeat(group_codes.reshape(-1), counts),
        group_names=tuple(str(g) for g in group_names),
        verdict=np.repeat(verdict_codes, counts),
        order=np.repeat(order_codes, counts),
        score=np.repeat(score_arr, counts),
    )


def _turns_as_rows(rows: list[tuple]) -> list[tuple]:
    """Grouped rows with turn labels -> one grouped row per labelled turn (labels as verdict)."""
    out: list[tuple] = []
    for group, verdict, order, score, labels, item_ids in rows:
        if labels:
            out.extend((group, label, order, score, item_ids) for label in labels)
        else:
            out.append((group, verdict, order, score, item_ids))
    return out
