"""Researcher pages: a study's releases (publish form, versions, downloads), and the import
of a release archive as a new study (a job)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from evalhub.accounts.decorators import researcher_required
from evalhub.releases import selectors, services
from evalhub.releases.forms import PublishForm, ReleaseImportForm
from evalhub.releases.hub import ReleasePushError, hub_configured
from evalhub.releases.import_checks import ReleaseImportError
from evalhub.releases.importing import release_import_start
from evalhub.releases.models import Release
from evalhub.studies.selectors import STUDY_SCOPE, team_studies


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def study_releases(request: HttpRequest, slug: str) -> HttpResponse:
    """GET lists the versions; POST publishes a new one (a job) and shows its progress."""
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    form = PublishForm(request.POST or None, hub=hub_configured())
    if request.method == "POST" and form.is_valid():
        try:
            release = services.release_publish(study=study, by=request.user, **form.cleaned_data)
        except (services.ReleaseStateError, ReleasePushError) as exc:
            messages.error(request, str(exc))
        else:
            return redirect("jobs:detail", job_id=release.job_id)
    context = {
        "study": study,
        "form": form,
        "releases": selectors.releases_of_study(study=study),
        "nav_section": "studies",
    }
    return render(request, "releases/study_releases.html", context)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def release_download(request: HttpRequest, slug: str, version: int) -> FileResponse:
    release = get_object_or_404(
        Release.objects.select_related("study"),
        study__team=request.team,
        study__slug=slug,
        version=version,
    )
    if release.status != Release.Status.READY or not release.archive_path.is_file():
        raise Http404(f"release v{version} of {slug} is not ready")
    return FileResponse(
        release.archive_path.open("rb"), as_attachment=True, filename=release.archive_name
    )


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def release_card(request: HttpRequest, slug: str, version: int) -> FileResponse:
    release = get_object_or_404(
        Release, study__team=request.team, study__slug=slug, version=version
    )
    if release.status != Release.Status.READY:
        raise Http404(f"release v{version} of {slug} is not ready")
    return FileResponse(
        (release.path / "README.md").open("rb"), content_type="text/markdown; charset=utf-8"
    )


@require_http_methods(["GET", "POST"])
@researcher_required
def release_import(request: HttpRequest) -> HttpResponse:
    """GET shows the upload form; POST checks the archive's layout and the slug and starts
    the import job, whose page shows its progress."""
    form = ReleaseImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = release_import_start(team=request.team, by=request.user, **form.cleaned_data)
        except ReleaseImportError as exc:
            field = exc.problems[0].field
            form.add_error(field if field in form.fields else None, str(exc))
        else:
            return redirect("jobs:detail", job_id=job.pk)
    return render(request, "releases/import.html", {"form": form, "nav_section": "studies"})
