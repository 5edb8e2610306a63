"""Researcher dashboards: thin views over evalhub.dashboards.selectors."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from evalhub.accounts.decorators import researcher_required
from evalhub.dashboards.selectors import global_leaderboard, studies_overview, study_results
from evalhub.dashboards.selectors.crowd_quality import ITEM_LABEL_FIELDS, item_labels
from evalhub.dashboards.selectors.style_control import (
    global_style_leaderboard,
    study_style_leaderboard,
)
from evalhub.studies.exports import export_lines
from evalhub.studies.models import Study
from evalhub.studies.selectors import STUDY_SCOPE, judgments_export_rows, team_studies

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
POLL_SECONDS = 5


def _filters(request: HttpRequest) -> dict[str, Any]:
    groups = [g for g in request.GET.getlist("group") if g]
    return {"groups": groups or None, "category": request.GET.get("category") or None}


@require_GET
@researcher_required
def overview(request: HttpRequest) -> HttpResponse:
    context = {
        "studies": studies_overview(team=request.team),
        "leaderboard": global_leaderboard(),
        "style_board": global_style_leaderboard(),
    }
    return render(request, "dashboards/overview.html", context)


@require_GET
@researcher_required
def judges_page(request: HttpRequest) -> HttpResponse:
    from evalhub.dashboards.selectors.judges import judge_leaderboard

    return render(request, "dashboards/judges.html", {"rows": judge_leaderboard(team=request.team)})


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_page(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(
        team_studies(team=request.team).select_related("target_model", "prompt_set"), slug=slug
    )
    filters = _filters(request)
    results = study_results(study, **filters)
    style_board = None
    if study.kind == Study.Kind.PAIRWISE:
        style_board = study_style_leaderboard(study, groups=filters["groups"])
    context = {
        "study": study,
        "results": results,
        "poll_seconds": POLL_SECONDS,
        "style_board": style_board,
    }
    return render(request, "dashboards/study.html", context)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_data(request: HttpRequest, slug: str) -> JsonResponse:
    study = get_object_or_404(
        team_studies(team=request.team).select_related("target_model"), slug=slug
    )
    response = JsonResponse(study_results(study, **_filters(request)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_export(request: HttpRequest, slug: str, fmt: str) -> StreamingHttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404(f"no export format {fmt!r}; use csv or jsonl")
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    lines = export_lines(judgments_export_rows(study=study), fmt)
    response = StreamingHttpResponse(lines, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-judgments.{fmt}"'
    return response


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_item_labels(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404(f"no export format {fmt!r}; use csv or jsonl")
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    body = "".join(export_lines(item_labels(study), fmt, fields=ITEM_LABEL_FIELDS))
    response = HttpResponse(body, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-item-labels.{fmt}"'
    return response
