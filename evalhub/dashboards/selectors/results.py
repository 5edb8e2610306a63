"""A study's results as JSON: what the study page draws and /api/v1/studies/<slug>/results/
returns. Arrays from frames.py go through evalhub.stats; nothing here loops over judgments.

Shares are fractions (0..1); intervals are {"low", "high", "level", "method"}; NaN is null.
Bootstrap seeds are fixed so that the same judgments always give the same numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.db.models import Q
from numpy.typing import NDArray

from evalhub.dashboards.cache import cached_stats, stats_version
from evalhub.dashboards.selectors.alpaca_lc import VERDICT_PREFERENCE, length_controlled_all
from evalhub.dashboards.selectors.difficulty import discrete_preference
from evalhub.dashboards.selectors.frames import (
    LLM_PREFIX,
    NO_CODE,
    ItemTable,
    JudgmentTable,
    column_arrays,
    counted_judgments,
    item_table,
    judgment_table,
)
from evalhub.dashboards.selectors.instrument import instrument_results
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.dashboards.selectors.leaderboard import leaderboard_from_coded_battles
from evalhub.dashboards.selectors.pairs import OrderPairs, combine_llm_orders
from evalhub.dashboards.selectors.reliability import (
    aggregation_block,
    excluded_counts,
    judgment_counts,
)
from evalhub.dashboards.selectors.slices import weighted_slices, win_tie_loss_slices
from evalhub.stats import (
    agreement_matrix,
    label_distributions_by,
    likert_mean,
    position_bias,
    swap_consistency,
    win_rate_by_length,
)
from evalhub.studies.models import Judgment, Study

ROUNDS = 1000  # bootstrap rounds for shares and means: ample for 95% percentile bounds
SEED = 0
LENGTH_BINS = 5


def _kind_of(group: str) -> str:
    return "llm" if group.startswith(LLM_PREFIX) else "human"


def _pairwise(items: ItemTable, table: JudgmentTable) -> list[dict[str, Any]]:
    if not len(table):
        return []
    # Integer codes in name order stand in for the names: same slices, same sorted order,
    # without sorting 100k strings.
    baseline_names, baseline_of_item = np.unique(items.baseline_model, return_inverse=True)
    slices = win_tie_loss_slices(
        table.verdict,
        items.prompt[table.item],
        baseline_of_item.reshape(-1)[table.item],
        table.group,
        rounds=ROUNDS,
        seed=SEED,
    )
    found = []
    for (b, g), r in slices.items():
        baseline, group = str(baseline_names[b]), table.group_names[g]
        row = {"baseline": baseline, "judge_group": group, "judge_kind": _kind_of(group)}
        found.append({**row, **jsonable(r)})
    return found


def _agreement(table: JudgmentTable, scale: str) -> dict[str, Any] | None:
    values = table.score if scale == "likert" else table.verdict
    ok = np.isfinite(values) & (values == np.round(values)) & (values != NO_CODE)
    if len(np.unique(table.group[ok])) < 1 or not ok.any():
        return None
    matrix = agreement_matrix(
        table.item[ok], table.group_labels()[ok], values[ok].astype(np.int64), scale=scale
    )
    return jsonable(matrix)


def _labels_by(
    items: ItemTable, table: JudgmentTable, keys: NDArray[np.str_], key_name: str
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    groups = table.group_labels()
    for group in np.unique(groups):
        rows = groups == group
        dists = label_distributions_by(
            table.verdict[rows], keys[rows], items.prompt[table.item[rows]], rounds=0
        )
        found.extend(
            {key_name: key, "judge_group": str(group), **jsonable(d)} for key, d in dists.items()
        )
    return found


def _likert(items: ItemTable, table: JudgmentTable) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    models, groups = items.target_model[table.item], table.group_labels()
    for model, group in sorted(set(zip(models.tolist(), groups.tolist(), strict=True))):
        rows = (models == model) & (groups == group)
        scores, prompts = table.score[rows], items.prompt[table.item[rows]]
        shown = likert_mean(scores, prompts, method="t")
        boot = likert_mean(
            scores, prompts, method="cluster-bootstrap-percentile", rounds=ROUNDS, seed=SEED
        )
        found.append(
            {"model": model, "judge_group": group, **jsonable(shown), "bootstrap": jsonable(boot)}
        )
    return found


def _bias(
    items: ItemTable, raw: JudgmentTable, combined: JudgmentTable, pairs: OrderPairs
) -> dict[str, Any]:
    position, swap, length = [], [], []
    # Group codes follow the sorted group names, so looping over codes keeps the name order.
    for code, name in enumerate(raw.group_names):
        rows = (raw.group == code) & (raw.order != 0)
        if rows.any():
            pb = position_bias(raw.verdict[rows], raw.order[rows] == 1)
            position.append({"judge_group": name, **jsonable(pb)})
    for code, name in enumerate(raw.group_names):
        mine = pairs.group == code
        if mine.any():
            sc = swap_consistency(pairs.target_first[mine], pairs.baseline_first[mine])
            swap.append({"judge_group": name, **jsonable(sc)})
    for code, name in enumerate(combined.group_names):
        rows = combined.group == code
        if not rows.any():
            continue
        diff, verdicts = items.length_diff[combined.item[rows]], combined.verdict[rows]
        binned = win_rate_by_length(verdicts, diff, bins=LENGTH_BINS)
        length.append({"judge_group": name, "bins": jsonable(binned)})
    return {"position": position, "swap_consistency": swap, "length": length}


def _weighted(
    study: Study, items: ItemTable, groups: list[str] | None, in_scope: NDArray[np.bool_]
) -> list[dict[str, Any]]:
    """Weighted win rate (AlpacaEval's `win_rate`: the mean preference) per baseline and
    judge group, over every counted judgment (both orders of an LLM judge each count), next
    to the discrete preferred rate of the same rows. A judgment without a continuous
    preference counts 1 / 0.5 / 0 for target / tie / baseline."""
    query = Judgment.objects.filter(
        counted_judgments(Q(item__study=study)), verdict__in=list(VERDICT_PREFERENCE)
    )
    if groups:
        query = query.filter(judge_group__in=groups)
    found = list(query.values_list("judge_group", "item_id", "preference", "verdict"))
    if not found:
        return []
    group_arr, item_id, continuous, verdict = column_arrays(found, (str, np.int64, np.float64, str))
    item = items.index_of(item_id)
    keep = in_scope[item] & (items.baseline_model[item] != "")
    if not keep.any():
        return []
    discrete = discrete_preference(verdict)
    soft = np.where(np.isnan(continuous), discrete, continuous)  # None reads as NaN
    slices = weighted_slices(
        soft[keep],
        items.prompt[item[keep]],
        items.baseline_model[item[keep]],
        group_arr[keep],
        rounds=ROUNDS,
        seed=SEED,
    )
    out = []
    for (b, g), ww in slices.items():
        rows = keep & (items.baseline_model[item] == b) & (group_arr == g)
        out.append(
            {
                "baseline": b,
                "judge_group": g,
                "judge_kind": _kind_of(g),
                **jsonable(ww),
                "n_continuous": int(np.isfinite(continuous[rows]).sum()),
                "discrete_win_rate": float(discrete[rows].mean()),
            }
        )
    return out


def _lc_into_length_bias(body: dict[str, Any]) -> None:
    """bias.length keeps its per-baseline arrays (studies, raw_win_rate,
    length_controlled_win_rate), now from AlpacaEval's estimator, and names its formula."""
    for row in body["bias"]["length"]:
        mine = [lc for lc in body["length_controlled"] if lc["judge_group"] == row["judge_group"]]
        row["studies"] = [lc["baseline"] for lc in mine]
        row["raw_win_rate"] = [lc["win_rate"] for lc in mine]
        row["length_controlled_win_rate"] = [lc["length_controlled_win_rate"] for lc in mine]
        row["formula"] = [lc["formula"] for lc in mine]


def _progress(study: Study, items: ItemTable, in_scope: NDArray, table: JudgmentTable) -> dict:
    """Human judgments per item against the quota (raters_per_item); LLM items covered."""
    n_items = int(in_scope.sum())
    quota = int(study.raters_per_item)
    human = ~table.is_llm()
    per_item = np.bincount(table.item[human], minlength=items.ids.size)[in_scope]
    histogram = np.bincount(per_item, minlength=quota + 1) if n_items else np.zeros(quota + 1)
    llm = []
    for code, name in enumerate(table.group_names):
        if name.startswith(LLM_PREFIX):
            judged = np.unique(table.item[table.group == code])
            llm.append({"judge_group": name, "items_judged": int(judged.size)})
    return jsonable(
        {
            "items": n_items,
            "quota": quota,
            "judgments_needed": n_items * quota,
            "judgments_done": int(np.minimum(per_item, quota).sum()),
            "items_complete": int((per_item >= quota).sum()),
            "judgments_per_item": histogram,
            "human_judgments": int(per_item.sum()),
            "llm": llm,
        }
    )


def _headline(
    study: Study, items: ItemTable, table: JudgmentTable, policy: str
) -> tuple[dict[str, Any], JudgmentTable | None, JudgmentTable | None, OrderPairs | None]:
    """The study kind's headline results (pairwise shares and agreement; labels; Likert
    means), with the pairwise tables the rest of the dashboard goes on from."""
    head: dict[str, Any] = {}
    if study.kind == Study.Kind.PAIRWISE:
        raw = table.take(
            (table.verdict >= -1) & (table.verdict <= 1) & (items.baseline_model[table.item] != "")
        )
        combined, pairs = combine_llm_orders(raw, policy)
        head["pairwise"] = _pairwise(items, combined)
        head["agreement"] = _agreement(combined, "pairwise") if len(combined) else None
        return head, raw, combined, pairs
    if study.kind in (Study.Kind.ABSOLUTE, Study.Kind.DIALOGUE):
        labels = table.take((table.verdict >= 0) & (table.verdict <= 2))
        if len(labels):
            head["labels"] = _labels_by(items, labels, items.target_model[labels.item], "model")
            head["labels_by_category"] = _labels_by(
                items, labels, items.category[labels.item], "category"
            )
            head["agreement"] = _agreement(labels, "label")
    elif study.kind == Study.Kind.LIKERT:
        scored = table.take(np.isfinite(table.score))
        if len(scored):
            head["likert"] = _likert(items, scored)
            head["agreement"] = _agreement(scored, "likert")
    return head, None, None, None


def compute_study_results(
    study: Study, *, groups: list[str] | None = None, category: str | None = None
) -> dict[str, Any]:
    """The results body (uncached); see study_results."""
    items = item_table(study)
    table = judgment_table(study, items, with_turn_labels=study.kind == Study.Kind.DIALOGUE)
    in_scope = np.ones(items.ids.size, dtype=bool)
    if category:
        in_scope = items.category == category
        table = table.take(in_scope[table.item])
    all_groups = list(table.group_names)
    progress = _progress(study, items, in_scope, table)
    if groups:
        table = table.take(np.isin(table.group_labels(), groups))
    body: dict[str, Any] = {
        "filters": {
            "groups": groups or [],
            "category": category or "",
            "available_groups": all_groups,
            "available_categories": sorted(set(items.category.tolist()) - {""}),
        },
        "n_judgments": len(table),
        "pairwise": [],
        "agreement": None,
        "labels": [],
        "labels_by_category": [],
        "likert": [],
        "leaderboard": None,
        "bias": {"position": [], "swap_consistency": [], "length": []},
        "weighted": [],
        "length_controlled": [],
        "progress": progress,
        "llm_pair_policy": study.inconsistent_pair_policy or "tie",
        "aggregation": {"method": "", "state": "current", "current": True, "rows": []},
    }
    counts = judgment_counts(study)
    body["excluded"] = excluded_counts(study, counts)
    if not groups or any(not g.startswith(LLM_PREFIX) for g in groups):
        body["aggregation"] = aggregation_block(study, items, in_scope)
    head, raw, combined, pairs = _headline(study, items, table, body["llm_pair_policy"])
    body.update(head)
    if study.kind == Study.Kind.PAIRWISE:
        if len(combined):
            # Models coded once per item, not once per battle (same board).
            models, model_of = np.unique(
                np.concatenate([items.target_model, items.baseline_model]), return_inverse=True
            )
            model_of = model_of.reshape(2, -1)
            body["leaderboard"] = leaderboard_from_coded_battles(
                model_of[0][combined.item], model_of[1][combined.item], combined.verdict, models
            )
            body["bias"] = _bias(items, raw, combined, pairs)
        body["weighted"] = _weighted(study, items, groups, in_scope)
        if not category:  # the GLM is fitted on the whole prompt set, as AlpacaEval does
            scopes = [(w["baseline"], w["judge_group"]) for w in body["weighted"]]
            body["length_controlled"] = length_controlled_all(study, scopes)
        _lc_into_length_bias(body)
    body.update(instrument_results(study, groups=groups, category=category))
    body["computed_at"] = datetime.now(UTC).isoformat()
    return body


def study_meta(study: Study) -> dict[str, Any]:
    """Live facts about the study (never cached: status changes without a judgment)."""
    return {
        "study": study.slug,
        "name": study.name,
        "kind": study.kind,
        "status": study.status,
        "target_model": study.target_model.slug,
        "baselines": sorted(study.baselines.values_list("slug", flat=True)),
        "raters_per_item": study.raters_per_item,
    }


def study_results(
    study: Study, *, groups: list[str] | None = None, category: str | None = None
) -> dict[str, Any]:
    """A study's results as a JSON-able dict, cached per study until a judgment is written.

    Keys: study, name, kind, status, target_model, baselines, raters_per_item, version,
    filters, n_judgments, pairwise (per baseline x judge group: win/tie/loss shares with 95%
    prompt-clustered bootstrap intervals, equivalent_or_preferred, sign_test_p_value),
    agreement (matrix over judge groups), labels and labels_by_category (Fail/Pass/Excellent
    shares with Wilson intervals), likert (mean with t-interval, plus "bootstrap"),
    leaderboard, bias (position, swap_consistency, length), weighted (per baseline x judge
    group: AlpacaEval's weighted win rate = mean preference, its standard_error and a 95%
    prompt-clustered interval, n_continuous, discrete_win_rate), length_controlled (per
    baseline x judge group: AlpacaEval's LC win rate, naming its `formula`:
    length_controlled_v1 or length_controlled_minimal, with `formula_note`; a worker's
    shared fit: `current` false is the last fit, marked `updating`, and `formula` null with
    no numbers while there is none yet), progress, llm_pair_policy,
    excluded ({"raters", "judgments"} left out of every result: excluded raters),
    aggregation (per baseline or model: majority-vote, reliability-weighted and Dawid-Skene
    shares over items; `state` "updating" while the worker fits the default),
    computed_at; and in the study's instrument: instrument (slug, version, content_hash,
    kind, levels, choices), choices (per baseline or model x judge group: the share of each
    choice, pairwise from the target's side, with Wilson intervals), weighted_win_rate
    (pairwise: plain and Arena-Hard weighted win rate, with a bootstrap interval for the
    weighted one), instrument_agreement (agreement matrix over the instrument's choices at
    its level: nominal, ordinal or interval). LLM pairwise verdicts in both orders are
    combined per item under the study's inconsistent_pair_policy. groups: only these judge
    groups; category: only items whose prompt has this category.
    """
    chosen = sorted(set(groups)) if groups else None
    variant = {"groups": chosen, "category": category or ""}
    version = stats_version(study.pk)
    body = cached_stats(
        study.pk,
        variant,
        lambda: compute_study_results(study, groups=chosen, category=category or None),
    )
    return {**study_meta(study), "version": version, **body}


def headline_results(study: Study) -> dict[str, Any]:
    """What a release's dataset card shows: the headline results (see _headline:
    pairwise, labels, likert, agreement, llm_pair_policy) and, where there are none of
    pairwise or labels, the instrument's choice shares. The same numbers as study_results,
    computed without the rest of the dashboard (leaderboard, bias, weighted and
    length-controlled win rates, aggregation); cached the same way."""

    def compute() -> dict[str, Any]:
        items = item_table(study)
        table = judgment_table(study, items, with_turn_labels=study.kind == Study.Kind.DIALOGUE)
        policy = study.inconsistent_pair_policy or "tie"
        body = {"pairwise": [], "agreement": None, "labels": [], "likert": [], "choices": [],
                "llm_pair_policy": policy, **_headline(study, items, table, policy)[0]}  # fmt: skip
        if not body["pairwise"] and not body["labels"]:
            body["choices"] = instrument_results(study)["choices"]
        return body

    return cached_stats(study.pk, {"headline": True}, compute)
