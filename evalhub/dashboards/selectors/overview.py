"""All studies with their status and progress, in two aggregate queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from evalhub.studies.models import Item, Judgment
from evalhub.studies.selectors import team_studies
from evalhub.teams.models import Team


def studies_overview(*, team: Team) -> list[dict[str, Any]]:
    """One dict per study, newest first: slug, name, kind, status, target, items, quota,
    human judgments counted toward it, llm_judgments, and progress (0..1, human judgments
    against items x raters_per_item, each item capped at its quota)."""
    studies = list(
        team_studies(team=team).select_related("target_model", "prompt_set").order_by("-created_at")
    )
    items = dict(
        Item.objects.filter(is_gold=False)
        .values("study_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("study_id", "n")
    )
    counted = Q(is_attention_check=False, item__is_gold=False) & ~Q(
        parse_state__in=[Judgment.ParseState.FAILED, Judgment.ParseState.ERROR]
    )
    per_item = (
        Judgment.objects.filter(counted)
        .values("item__study_id", "item_id")
        .annotate(
            human=Count("id", filter=~Q(judge_group__startswith="llm:")),
            llm=Count("id", filter=Q(judge_group__startswith="llm:")),
        )
        .order_by()
        .values_list("item__study_id", "human", "llm")
    )
    quota = {s.pk: s.raters_per_item for s in studies}
    done: dict[int, int] = {}
    llm: dict[int, int] = {}
    for study_id, human, by_llm in per_item:
        done[study_id] = done.get(study_id, 0) + min(human, quota.get(study_id, 0))
        llm[study_id] = llm.get(study_id, 0) + by_llm
    rows = []
    for study in studies:
        needed = items.get(study.pk, 0) * study.raters_per_item
        rows.append(
            {
                "study": study,
                "slug": study.slug,
                "name": study.name,
                "kind": study.get_kind_display(),
                "status": study.status,
                "status_display": study.get_status_display(),
                "target_model": study.target_model.slug,
                "prompt_set": study.prompt_set.slug,
                "items": items.get(study.pk, 0),
                "quota": study.raters_per_item,
                "judgments_done": done.get(study.pk, 0),
                "judgments_needed": needed,
                "llm_judgments": llm.get(study.pk, 0),
                "progress": done.get(study.pk, 0) / needed if needed else 0.0,
            }
        )
    return rows
