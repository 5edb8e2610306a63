"""Reads for studies: the export rows of judgments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from evalhub.outputs.models import Output
from evalhub.prompts.models import Prompt
from evalhub.studies.models import Judge, Judgment, Study
from evalhub.teams.models import Team
from evalhub.teams.scope import TeamScope

EXPORT_FIELDS = [
    "judgment_id", "study", "item_id", "prompt_id", "prompt_external_id", "category",
    "judge_group", "rater_id", "judge", "target_model", "baseline_model", "order",
    "target_side", "raw_choice", "verdict", "score", "turn_labels", "comment",
    "time_on_task_ms", "too_fast", "is_attention_check", "parse_state", "tokens_in",
    "tokens_out", "cost_usd", "excluded", "created_at", "instrument", "instrument_version",
]  # fmt: skip


def judgments_export_rows(
    *, study: Study | None = None, team: Team | None = None
) -> Iterator[dict[str, Any]]:
    """One flat dict per judgment (fields EXPORT_FIELDS) of `study`, or of every study of
    `team`, or of every study, streamed in id order."""
    qs = Judgment.objects.select_related(
        "item__study__instrument",
        "item__prompt",
        "item__target_output__model",
        "item__baseline_output__model",
        "assignment",
        "judge",
    ).order_by("id")
    if study is not None:
        qs = qs.filter(item__study=study)
    if team is not None:
        qs = qs.filter(item__study__team=team)
    for j in qs.iterator(chunk_size=2000):
        item = j.item
        target = item.target_output
        baseline = item.baseline_output
        yield {
            "judgment_id": j.pk,
            "study": item.study.slug,
            "item_id": item.pk,
            "prompt_id": item.prompt_id,
            "prompt_external_id": item.prompt.external_id,
            "category": item.prompt.category,
            "judge_group": j.judge_group,
            "rater_id": j.rater_id,
            "judge": j.judge.slug if j.judge else "",
            "target_model": target.model.slug if target else "",
            "baseline_model": baseline.model.slug if baseline else "",
            "order": j.order,
            "target_side": j.assignment.target_side if j.assignment else "",
            "raw_choice": j.raw_choice,
            "verdict": j.verdict,
            "score": j.score,
            "turn_labels": j.turn_labels,
            "comment": j.comment,
            "time_on_task_ms": j.time_on_task_ms,
            "too_fast": j.too_fast,
            "is_attention_check": j.is_attention_check,
            "parse_state": j.parse_state,
            "tokens_in": j.tokens_in,
            "tokens_out": j.tokens_out,
            "cost_usd": str(j.cost_usd) if j.cost_usd is not None else None,
            "excluded": j.excluded,  # an excluded rater's: left out of every result
            "created_at": j.created_at.isoformat(),
            # What the judgment answered: the study's instrument version (frozen at launch).
            "instrument": instrument.slug if (instrument := item.study.instrument) else "",
            "instrument_version": instrument.version if instrument else None,
        }


def study_plan(
    *,
    prompt_set: Any,
    kind: str,
    target_model: Any,
    baselines: list[Any],
    raters_per_item: int,
    attention_check_rate: float,
    session_quota: int,
    interval_width: float = 0.1,
    instrument: Any = None,
) -> dict[str, Any]:
    """What launching this study would make, before anything is saved: each chosen model's
    coverage of the prompt set, the prompts left out (lacking an output from a chosen
    model), items and human judgments needed, and the power planner's prompts needed for a
    95% interval of `interval_width` on a win share (with the curve over widths)."""
    from evalhub.stats.power import prompts_for_interval_width
    from evalhub.studies.services import gold_item_count

    pairwise = kind == Study.Kind.PAIRWISE
    models = [target_model, *baselines] if pairwise else [target_model]
    prompts = list(
        Prompt.objects.filter(prompt_set=prompt_set)
        .order_by("position", "id")
        .values_list("id", "external_id")
    )
    answered: dict[int, set[int]] = {m.pk: set() for m in models}
    pairs = (
        Output.objects.filter(prompt__prompt_set=prompt_set, model__in=models)
        .values_list("model_id", "prompt_id")
        .distinct()
    )
    for model_id, prompt_id in pairs:
        answered[model_id].add(prompt_id)
    coverage = [
        {
            "model": m.slug,
            "outputs": len(answered[m.pk]),
            "missing": len(prompts) - len(answered[m.pk]),
        }
        for m in models
    ]
    left_out = [ext for pk, ext in prompts if any(pk not in answered[m.pk] for m in models)]
    covered = len(prompts) - len(left_out)
    real = covered * (len(baselines) if pairwise else 1)
    from evalhub.instruments.services import instrument_for_study_kind

    probe = Study(
        kind=kind,
        attention_check_rate=attention_check_rate,
        session_quota=session_quota,
        instrument=instrument or instrument_for_study_kind(kind),
    )
    gold = gold_item_count(probe, real, covered) if covered else 0
    widths = [round(0.02 * i, 2) for i in range(2, 26)]
    return {
        "prompts": len(prompts),
        "covered": covered,
        "left_out": left_out,
        "coverage": coverage,
        "items": real,
        "gold_items": gold,
        "judgments_needed": real * raters_per_item,
        "planner": {
            "interval_width": interval_width,
            "prompts_needed": int(prompts_for_interval_width(interval_width)),
            "widths": widths,
            "curve": [int(n) for n in prompts_for_interval_width(widths)],
        },
    }


def team_studies(*, team: Team) -> QuerySet[Study]:
    """The studies of `team`: every page, list and API lookup of studies starts here, so
    another team's study is simply not found (a 404, never a 403)."""
    return Study.objects.filter(team=team)


def team_judges(*, team: Team) -> QuerySet[Judge]:
    """The LLM judges of `team`: pages, lists, forms and API lookups of judges start here, so
    another team's judge is simply not found (a 404, never a 403)."""
    return Judge.objects.filter(team=team)


# The gates resolve a study page's `slug` within the caller's team before the role check.
STUDY_SCOPE = TeamScope(team_studies, "study")
# The same, for a researcher page under a study's public path (/live/<crowd_code>/export/).
STUDY_BY_CROWD_CODE_SCOPE = TeamScope(team_studies, "study", kwarg="crowd_code", field="crowd_code")
