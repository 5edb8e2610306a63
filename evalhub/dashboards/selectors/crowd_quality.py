"""Crowd quality of one study from its valid human verdicts: the one-coin fit, the flags
with their evidence (evalhub.stats.crowd_flags) and the reliability-weighted aggregate per
item (evalhub.stats.crowd_aggregate), the methods the simulation table chose
(bench/crowd_simulation.py). Read by the raters table and the results page alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalhub.dashboards.selectors.crowd_fit import (
    SCALES,
    VerdictArrays,
    crowd_fit,
    valid_verdicts,
)
from evalhub.stats.crowd_aggregate import CrowdAggregate, caution, reliability_weighted
from evalhub.stats.crowd_flags import QUALITY_DEFAULTS, CrowdFlags, crowd_flags
from evalhub.stats.one_coin import OneCoinResult
from evalhub.studies.models import Study


@dataclass(frozen=True)
class CrowdQuality:
    """`rater_ids`: raters with valid verdicts, sorted; `flags` per rater in that order;
    `fit`: the one-coin fit of every valid verdict (by ids)."""

    data: VerdictArrays
    rater_ids: NDArray[np.int64]
    fit: OneCoinResult
    flags: CrowdFlags
    rules: dict[str, Any]

    @property
    def flagged_ids(self) -> NDArray[np.int64]:
        return self.rater_ids[self.flags.flagged]


def quality_rules(study: Study) -> dict[str, Any]:
    """The flag thresholds: QUALITY_DEFAULTS, overridden by the study's quality_rules."""
    own = {k: v for k, v in (study.quality_rules or {}).items() if k in QUALITY_DEFAULTS}
    return {**QUALITY_DEFAULTS, **own}


def gold_right(study: Study, data: VerdictArrays) -> NDArray[np.float64]:
    """Per verdict: 1 / 0 where its item's prompt is one of the study's gold prompts (the
    researchers' expected answer), NaN elsewhere."""
    from evalhub.dashboards.selectors.gold import gold_expectations  # a sibling, read lazily

    expected = gold_expectations(study)  # {item id: class}
    out = np.full(data.item.size, np.nan)
    if not expected:
        return out
    ids = np.fromiter(expected, dtype=np.int64)
    classes = np.fromiter(expected.values(), dtype=np.int64, count=ids.size)
    order = np.argsort(ids)
    ids, classes = ids[order], classes[order]
    pos = np.minimum(np.searchsorted(ids, data.item), ids.size - 1)
    hit = ids[pos] == data.item
    out[hit] = (classes[pos[hit]] == data.label[hit]).astype(np.float64)
    return out


def crowd_quality(study: Study) -> CrowdQuality | None:
    """See CrowdQuality; None for kinds of study without a three-class scale."""
    if study.kind not in SCALES:
        return None
    data = valid_verdicts(study)
    fit = crowd_fit(study, data)
    rater_ids, code = np.unique(data.rater, return_inverse=True)
    rules = quality_rules(study)
    sided = np.isin(data.raw_choice, ("A", "B")) & (study.kind == Study.Kind.PAIRWISE)
    flags = crowd_flags(
        n_raters=int(rater_ids.size), rater=code.reshape(-1), item=data.item, label=data.label,
        sided=sided, chose_left=data.raw_choice == "A", time_ms=data.time_ms,
        fit=_by_codes(fit, rater_ids), gold_right=gold_right(study, data), rules=rules,
    )  # fmt: skip
    return CrowdQuality(data=data, rater_ids=rater_ids, fit=fit, flags=flags, rules=rules)


def _by_codes(fit: OneCoinResult, rater_ids: NDArray[np.int64]) -> OneCoinResult:
    """The fit with its raters as codes (positions in rater_ids), as crowd_flags reads."""
    return OneCoinResult(fit.items, fit.label, fit.proba, np.searchsorted(rater_ids, fit.raters),
                         fit.skill, fit.priors, fit.iterations)  # fmt: skip


def item_aggregate(
    study: Study, quality: CrowdQuality, item_ids: NDArray[np.int64]
) -> CrowdAggregate:
    """The reliability-weighted label of each of `item_ids` (sorted; -1: no verdicts),
    flagged raters' votes left out, as the simulation table's default."""
    data = quality.data
    pos = np.searchsorted(item_ids, data.item)
    known = (pos < item_ids.size) & (item_ids[np.minimum(pos, item_ids.size - 1)] == data.item)
    confidence, margin = caution(study.raters_per_item)
    return reliability_weighted(
        pos[known], data.rater[known], data.label[known], n_items=int(item_ids.size),
        flagged_rater=quality.flagged_ids, tie_class=SCALES[study.kind][2],
        confidence=confidence, min_margin=margin,
    )  # fmt: skip


ITEM_LABEL_FIELDS = ("item", "prompt", "target", "baseline", "votes", "majority",
                     "reliability_weighted")  # fmt: skip


def item_labels(study: Study) -> list[dict[str, Any]]:
    """One row per real item with valid human verdicts, in item id order: its prompt's id,
    the models' slugs, the votes per verdict and the aggregated verdicts (majority vote:
    null on a split top without a tie class; reliability-weighted: the default)."""
    from evalhub.stats.dawid_skene import majority_vote
    from evalhub.studies.models import Item

    quality = crowd_quality(study)
    if quality is None or not quality.data.item.size:
        return []
    classes, _, tie = SCALES[study.kind]
    name = {code: verdict for verdict, code in classes.items()}
    item_ids = np.unique(quality.data.item)
    aggregate = item_aggregate(study, quality, item_ids)
    pos = np.searchsorted(item_ids, quality.data.item)
    majority = majority_vote(pos, quality.data.label, item_ids.size, 3, tie_class=tie)
    facts = {
        pk: (prompt, target, baseline or "")
        for pk, prompt, target, baseline in Item.objects.filter(pk__in=item_ids.tolist())
        .values_list("pk", "prompt__external_id", "target_output__model__slug",
                     "baseline_output__model__slug")
    }  # fmt: skip
    all_votes = np.zeros((item_ids.size, 3), dtype=np.int64)
    np.add.at(all_votes, (pos, quality.data.label), 1)
    rows = []
    for i, pk in enumerate(item_ids.tolist()):  # one row per item
        prompt, target, baseline = facts.get(pk, ("", "", ""))
        voted = majority[i]
        rows.append({
            "item": pk, "prompt": prompt, "target": target, "baseline": baseline,
            "votes": {name[c]: int(all_votes[i, c]) for c in range(3)},
            "majority": name[int(voted)] if np.isfinite(voted) else None,
            "reliability_weighted": name.get(int(aggregate.label[i])),
        })  # fmt: skip
    return rows
