"""The judge leaderboard: every LLM judge group on pairwise studies that also have human
judgments, scored against those humans on the same items.

One row per (study, LLM judge group). Agreement is against the per-item human majority; the
judge's answer on an item is its verdicts combined over both orders under the study's
inconsistent-pair policy, then its per-item majority. Bias figures (swap consistency,
position) come from the study's results; price and time per 1,000 judgments from the judge's
own call records (none for imported judgments).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Count, Q, Sum

from evalhub.dashboards.selectors.frames import LLM_PREFIX, item_table, judgment_table
from evalhub.dashboards.selectors.jsonable import jsonable
from evalhub.dashboards.selectors.pairs import combine_llm_orders
from evalhub.dashboards.selectors.results import study_results
from evalhub.stats.judge_validity import (
    human_agreement,
    majority_verdicts,
    prefers_longer_rate,
    win_rate_rank_correlation,
)
from evalhub.studies.models import Judge, Judgment, Study
from evalhub.studies.selectors import team_studies
from evalhub.teams.models import Team
from generation.judging.models import JudgeCall

ROUNDS = 1000
SEED = 0


def _per_1000(judge: Judge | None, study: Study) -> dict[str, float | None]:
    if judge is None:
        return {"price_usd_per_1000": None, "seconds_per_1000": None}
    spent = Judgment.objects.filter(judge=judge, item__study=study).aggregate(
        cost=Sum("cost_usd"), n=Count("id", filter=Q(parse_state="ok"))
    )
    calls = JudgeCall.objects.filter(judge=judge, item__study=study).aggregate(ms=Sum("latency_ms"))
    n = spent["n"] or 0
    if not n:
        return {"price_usd_per_1000": None, "seconds_per_1000": None}
    return {
        "price_usd_per_1000": float(spent["cost"] or 0) * 1000 / n,
        "seconds_per_1000": (calls["ms"] or 0) / 1000 * 1000 / n,
    }


def _study_rows(study: Study) -> list[dict[str, Any]]:
    items = item_table(study)
    table = judgment_table(study, items)
    table = table.take((table.verdict >= -1) & (table.verdict <= 1))
    if not len(table):
        return []
    llm = table.is_llm()
    if llm.all() or not llm.any():
        return []
    human_items, human_major = majority_verdicts(table.item[~llm], table.verdict[~llm])
    policy = study.inconsistent_pair_policy or "tie"
    combined, _ = combine_llm_orders(table, policy)
    results = study_results(study)
    swap = {r["judge_group"]: r for r in results["bias"]["swap_consistency"]}
    position = {r["judge_group"]: r for r in results["bias"]["position"]}
    judges = {f"{LLM_PREFIX}{j.slug}": j for j in study.judges.all()} | {
        f"{LLM_PREFIX}{j.slug}": j
        for j in Judge.objects.filter(judgments__item__study=study).distinct()
    }
    rows = []
    for code, group in enumerate(combined.group_names):
        if not group.startswith(LLM_PREFIX):
            continue
        mine = combined.group == code
        judge_items, judge_major = majority_verdicts(combined.item[mine], combined.verdict[mine])
        both, h_at, j_at = np.intersect1d(human_items, judge_items, return_indices=True)
        if both.size == 0:
            continue
        agreement = human_agreement(
            human_major[h_at], judge_major[j_at], items.prompt[both], rounds=ROUNDS, seed=SEED
        )
        longer, n_longer = prefers_longer_rate(
            combined.verdict[mine], items.length_diff[combined.item[mine]]
        )
        baselines = np.unique(items.baseline_model[both])
        judge_rates = [np.mean(judge_major[j_at][items.baseline_model[both] == b] + 1) / 2
                       for b in baselines]  # fmt: skip
        human_rates = [np.mean(human_major[h_at][items.baseline_model[both] == b] + 1) / 2
                       for b in baselines]  # fmt: skip
        judge = judges.get(group)
        rows.append(
            {
                "study": study.slug,
                "study_name": study.name,
                "judge_group": group,
                "instrument": judge.template if judge else "imported",
                "verdict_mode": judge.verdict_mode if judge else "",
                "agreement": jsonable(agreement),
                "swap_consistency": swap.get(group, {}).get("rate"),
                "position_first_win_rate": position.get(group, {}).get("first_win_rate"),
                "prefers_longer_rate": longer,
                "prefers_longer_n": n_longer,
                "win_rate_spearman": win_rate_rank_correlation(judge_rates, human_rates),
                "models_compared": [str(b) for b in baselines],
                **_per_1000(judge, study),
            }
        )
    return rows


def judge_leaderboard(*, team: Team) -> list[dict[str, Any]]:
    """Rows sorted by tie-discounted accuracy, best first. Keys: study, study_name,
    judge_group, instrument, verdict_mode, agreement (n_items, n_prompts,
    tie_discounted_accuracy, accuracy, cohen_kappa, each with an `_interval`: 95% bootstrap
    over prompts), swap_consistency, position_first_win_rate, prefers_longer_rate (share of
    decisive verdicts on unequal lengths that chose the longer answer), prefers_longer_n,
    win_rate_spearman (per-baseline win rates against the humans'; null under 3 baselines),
    models_compared, price_usd_per_1000, seconds_per_1000 (summed call latency)."""
    studies = team_studies(team=team).filter(kind=Study.Kind.PAIRWISE).order_by("slug")
    rows = [row for study in studies for row in _study_rows(study)]
    return sorted(rows, key=lambda r: -(r["agreement"]["tie_discounted_accuracy"] or 0))
