"""The raters page's settings forms: the study's quality rules (the Prolific bonus and the
flags' thresholds) and the gold prompts researchers write. Thin: validate, call one
service (evalhub.crowd.rules), redirect back."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from evalhub.accounts.decorators import researcher_required
from evalhub.crowd.rules import (
    VERDICTS,
    study_gold_prompts,
    study_gold_prompts_update,
    study_quality_rules_update,
)
from evalhub.crowd.services import CrowdInputError
from evalhub.prompts.models import Prompt
from evalhub.studies.models import Study
from evalhub.studies.selectors import STUDY_SCOPE, team_studies

GOLD_SHOWN = 500  # prompts listed for marking; the API marks any
NUMBER_RULES = ("spam_odds", "min_median_seconds", "position_alpha", "min_judgments")


def gold_rows(study: Study) -> dict[str, Any]:
    """The gold form's rows: the study's prompts with their current expected answer."""
    current = study_gold_prompts(study)
    prompts = Prompt.objects.filter(prompt_set_id=study.prompt_set_id).order_by("id")
    return {
        "choices": VERDICTS.get(study.kind, ()),
        "rows": [
            {"id": pid, "text": text[:120], "expected": current.get(pid, "")}
            for pid, text in prompts.values_list("external_id", "text")[:GOLD_SHOWN]
        ],
        "marked": len(current),
    }


def _back(study: Study, note: str) -> HttpResponse:
    return redirect(reverse("crowd:raters", args=[study.slug]) + note)


@require_POST
@researcher_required(scope=STUDY_SCOPE)
def rules_save(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    rules: dict[str, Any] = {"bonus_per_judgment": request.POST.get("bonus_per_judgment") or None}
    for name in NUMBER_RULES:
        raw = request.POST.get(name, "").strip()
        if raw:
            try:
                rules[name] = int(raw) if name == "min_judgments" else float(raw)
            except ValueError:
                messages.error(request, f"{name}: not a number")
                return _back(study, "#quality-rules")
    try:
        study_quality_rules_update(study=study, rules=rules, by=request.user)
    except CrowdInputError as exc:
        messages.error(request, str(exc))
        return _back(study, "#quality-rules")
    messages.success(request, "Quality rules saved.")
    return _back(study, "#quality-rules")


@require_POST
@researcher_required(scope=STUDY_SCOPE)
def gold_save(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    gold = {
        key.removeprefix("gold:"): value
        for key, value in request.POST.items()
        if key.startswith("gold:")
    }
    try:
        made = study_gold_prompts_update(study=study, gold=gold, by=request.user)
    except CrowdInputError as exc:
        messages.error(request, str(exc))
        return _back(study, "#gold")
    messages.success(request, f"Gold prompts saved ({len(made)} marked in this form).")
    return _back(study, "#gold")
