"""Crowd quality of one study from its valid human verdicts: the one-coin fit, the flags
with their evidence (evalhub.stats.crowd_flags) and the reliability-weighted aggregate per
item (evalhub.stats.crowd_aggregate), the methods the simulation table chose
(bench/crowd_simulation.py). Read by the raters table and the results page alike.

The fits are a shared fit made by a worker (evalhub.dashboards.one_coin_fit); a page only
reads them. While the fit for the current data is pending the spam test is silent, the
raters' reliability unknown and the aggregate missing (`state` "updating"): the pages say
so and show the majority vote over every item instead, never an older fit's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalhub.dashboards.selectors.crowd_fit import (
    ONE_COIN_KIND,
    SCALES,
    CrowdFit,
    VerdictArrays,
    stored_crowd_fit,
    valid_verdicts,
)
from evalhub.fits.services import shared_fit_reject, shared_fit_use
from evalhub.stats.crowd_aggregate import (
    CrowdAggregate,
    aggregate_judgments,
    caution,
    reliability_weighted,
)
from evalhub.stats.crowd_flags import QUALITY_DEFAULTS, CrowdFlags, crowd_flags
from evalhub.stats.one_coin import OneCoinResult, one_coin_dawid_skene
from evalhub.studies.models import Study

# The states of a study's one-coin fit on its pages.
CURRENT, UPDATING, FAILED = "current", "updating", "failed"


@dataclass(frozen=True)
class CrowdQuality:
    """`rater_ids`: raters with valid verdicts, sorted; `flags` per rater in that order;
    `fits`: the worker's one-coin fits of exactly `data`, None unless `state` is CURRENT
    (then the spam test is left out of `flags`)."""

    data: VerdictArrays
    rater_ids: NDArray[np.int64]
    fits: CrowdFit | None
    flags: CrowdFlags
    rules: dict[str, Any]
    state: str

    @property
    def fit(self) -> OneCoinResult | None:
        return self.fits.fit if self.fits is not None else None

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


def _flags(
    study: Study, data: VerdictArrays, rater_ids: NDArray[np.int64], fit: OneCoinResult | None,
    rules: dict[str, Any],
) -> CrowdFlags:  # fmt: skip
    code = np.searchsorted(rater_ids, data.rater)
    sided = np.isin(data.raw_choice, ("A", "B")) & (study.kind == Study.Kind.PAIRWISE)
    return crowd_flags(
        n_raters=int(rater_ids.size), rater=code, item=data.item, label=data.label,
        sided=sided, chose_left=data.raw_choice == "A", time_ms=data.time_ms,
        fit=_by_codes(fit, rater_ids) if fit is not None else None,
        gold_right=gold_right(study, data), rules=rules,
    )  # fmt: skip


def crowd_fit_compute(study: Study, data: VerdictArrays) -> CrowdFit:
    """The worker's side: fit every verdict, flag the raters, and fit what the aggregate
    reads (the same judgments `reliability_weighted` would fit, by ids)."""
    fit = one_coin_dawid_skene(data.item, data.rater, data.label, n_classes=3)
    rater_ids = np.unique(data.rater)
    flags = _flags(study, data, rater_ids, fit, quality_rules(study))
    flagged = rater_ids[flags.flagged]
    use = aggregate_judgments(data.item, data.rater, flagged)
    aggregate = one_coin_dawid_skene(data.item[use], data.rater[use], data.label[use],
                                     n_classes=3)  # fmt: skip
    return CrowdFit(fit=fit, flagged=flagged, aggregate_fit=aggregate, flags=flags)


def crowd_quality(study: Study) -> CrowdQuality | None:
    """See CrowdQuality; None for kinds of study without a three-class scale. Reads the
    shared fit and the flags stored with it (queued for a worker when missing): no fit
    and no spam odds are computed here. A stored fit that is not exactly of the current
    data is rejected and fitted again; while none is current, the flags are the tests
    that need no fit (position, time, gold), the spam test silent, state "updating"."""
    if study.kind not in SCALES:
        return None
    data = valid_verdicts(study)
    rater_ids = np.unique(data.rater)
    rules = quality_rules(study)
    if not data.item.size:  # nothing to fit: no job for a study without verdicts
        flags = _flags(study, data, rater_ids, None, rules)
        return CrowdQuality(data=data, rater_ids=rater_ids, fits=None, flags=flags, rules=rules,
                            state=CURRENT)  # fmt: skip
    answer = shared_fit_use(kind=ONE_COIN_KIND, inputs={"study": study.pk})
    state = UPDATING if answer.updating else FAILED
    fits = stored_crowd_fit(answer.result, study, data) if answer.current else None
    if fits is not None:
        flags, state = fits.flags, CURRENT
    if answer.current and fits is None and answer.fit_id is not None:
        why = "not a one-coin fit of the study's current verdicts, rules and gold prompts"
        state = UPDATING if shared_fit_reject(fit_id=answer.fit_id, reason=why) else FAILED
    if fits is None:
        flags = _flags(study, data, rater_ids, None, rules)
    return CrowdQuality(data=data, rater_ids=rater_ids, fits=fits, flags=flags, rules=rules,
                        state=state)  # fmt: skip


def _by_codes(fit: OneCoinResult, rater_ids: NDArray[np.int64]) -> OneCoinResult:
    """The fit with its raters as codes (positions in rater_ids), as crowd_flags reads."""
    return OneCoinResult(fit.items, fit.label, fit.proba, np.searchsorted(rater_ids, fit.raters),
                         fit.skill, fit.priors, fit.iterations)  # fmt: skip


def item_aggregate(
    study: Study, quality: CrowdQuality, item_ids: NDArray[np.int64]
) -> CrowdAggregate | None:
    """The reliability-weighted label of each of `item_ids` (sorted; -1: no verdicts),
    flagged raters' votes left out, as the simulation table's default, from the worker's
    fit; None while that fit is not CURRENT."""
    if quality.fits is None:
        return None
    data, fit = quality.data, quality.fits.aggregate_fit
    pos = np.searchsorted(item_ids, data.item)
    known = (pos < item_ids.size) & (item_ids[np.minimum(pos, item_ids.size - 1)] == data.item)
    at = np.minimum(np.searchsorted(item_ids, fit.items), max(item_ids.size - 1, 0))
    on = item_ids[at] == fit.items if item_ids.size else np.zeros(fit.items.size, dtype=bool)
    by_codes = OneCoinResult(at[on], fit.label[on], fit.proba[on], fit.raters, fit.skill,
                             fit.priors, fit.iterations)  # fmt: skip
    confidence, margin = caution(study.raters_per_item)
    return reliability_weighted(
        pos[known], data.rater[known], data.label[known], n_items=int(item_ids.size),
        flagged_rater=quality.fits.flagged, fit=by_codes, tie_class=SCALES[study.kind][2],
        confidence=confidence, min_margin=margin,
    )  # fmt: skip


ITEM_LABEL_FIELDS = ("item", "prompt", "target", "baseline", "votes", "majority",
                     "reliability_weighted", "reliability_weighted_state")  # fmt: skip


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
            "reliability_weighted": name.get(int(aggregate.label[i])) if aggregate else None,
            "reliability_weighted_state": quality.state,
        })  # fmt: skip
    return rows
