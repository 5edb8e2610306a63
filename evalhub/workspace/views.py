"""Researcher workspace pages: thin views over services and selectors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from evalhub.accounts.decorators import researcher_required
from evalhub.dashboards.selectors import studies_overview
from evalhub.outputs.selectors import models_with_output_counts
from evalhub.prompts.selectors import prompt_sets_with_counts
from evalhub.studies.models import Judge


@require_GET
@researcher_required
def studies(request: HttpRequest) -> HttpResponse:
    return render(
        request, "workspace/studies.html", {"studies": studies_overview(), "nav_section": "studies"}
    )


@require_GET
@researcher_required
def prompt_sets(request: HttpRequest) -> HttpResponse:
    context = {
        "prompt_sets": prompt_sets_with_counts().order_by("slug"),
        "nav_section": "prompt_sets",
    }
    return render(request, "workspace/prompt_sets.html", context)


@require_GET
@researcher_required
def models(request: HttpRequest) -> HttpResponse:
    context = {"models": models_with_output_counts().order_by("slug"), "nav_section": "models"}
    return render(request, "workspace/models.html", context)


@require_GET
@researcher_required
def judges(request: HttpRequest) -> HttpResponse:
    context = {"judges": Judge.objects.order_by("slug"), "nav_section": "judges"}
    return render(request, "workspace/judges.html", context)
