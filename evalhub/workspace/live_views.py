"""Live studies in the workspace: the new-live-study form. Launch, close and results go
through the study's own pages (workspace.views), which know live studies."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from evalhub.accounts.decorators import researcher_required
from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.workspace.live_forms import LiveStudyForm


@require_http_methods(["GET", "POST"])
@researcher_required
def live_study_new(request: HttpRequest) -> HttpResponse:
    """Saves a draft live study with the service the API calls; the study page launches it."""
    form = LiveStudyForm(request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        try:
            study = live_study_create(**form.service_fields(), by=request.user, launch=False)
        except LiveInputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("workspace:study", slug=study.slug)
    context = {"form": form, "nav_section": "studies"}
    return render(request, "workspace/live_study_new.html", context)
