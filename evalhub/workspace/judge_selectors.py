"""Reads behind a judge's page: the studies it judged, with its judgments there counted the
way the lists filter them (all, counted in results, failed), and its runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from evalhub.dashboards.selectors.frames import EXCLUDED_PARSE_STATES, counted_judgments
from evalhub.studies.models import Judge, Judgment, Study


@dataclass(frozen=True)
class JudgedStudy:
    study: Study
    judgments: int  # every judgment of the judge in the study
    counted: int  # those the results count (counted_judgments)
    failed: int  # failed parses and failed calls


def judge_studies(*, judge: Judge) -> list[JudgedStudy]:
    """Every study the judge was added to or judged, newest first, with its counts: one
    grouped query over the judge's judgments (judgment_once_per_judge_item_order's index)."""
    counts = {
        row["item__study_id"]: row
        for row in Judgment.objects.filter(judge=judge)
        .values("item__study_id")
        .annotate(
            n=Count("id"),
            counted=Count("id", filter=counted_judgments(Q())),
            failed=Count("id", filter=Q(parse_state__in=EXCLUDED_PARSE_STATES)),
        )
        .order_by()
    }
    studies = Study.objects.filter(Q(judges=judge) | Q(pk__in=list(counts))).distinct()
    return [
        JudgedStudy(
            study,
            counts.get(study.pk, {}).get("n", 0),
            counts.get(study.pk, {}).get("counted", 0),
            counts.get(study.pk, {}).get("failed", 0),
        )
        for study in studies.order_by("-created_at")
    ]


def judge_runs(*, judge: Judge, limit: int = 20) -> list[Any]:
    """The judge's latest runs (jobs), newest first."""
    from evalhub.jobs.models import Job

    runs = Job.objects.filter(kind=Job.Kind.JUDGE, params__judge_id=judge.pk)
    return list(runs.order_by("-id")[:limit])
