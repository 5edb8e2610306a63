"""The page that starts a generation run; progress is then on the job page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from evalhub.accounts.decorators import researcher_required
from generation.forms import GenerationRunForm
from generation.sampling import LIMA_DEFAULTS
from generation.services import generation_run_create


@researcher_required
def generation_start(request: HttpRequest) -> HttpResponse:
    form = GenerationRunForm(request.POST or None, initial=request.GET.dict(), team=request.team)
    if request.method == "POST" and form.is_valid():
        try:
            job = generation_run_create(
                model=form.cleaned_data["model"],
                prompt_set=form.cleaned_data["prompt_set"],
                samples=form.cleaned_data["samples"],
                overrides=form.overrides(),
                requested_by=request.user,
                team=request.team,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("jobs:detail", job_id=job.pk)
    return render(request, "generation/start.html", {"form": form, "defaults": LIMA_DEFAULTS})
