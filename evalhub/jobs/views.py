"""Job pages for researchers: a live progress page, its JSON status, and cancel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from evalhub.accounts.decorators import researcher_required
from evalhub.jobs import selectors, services
from evalhub.jobs.models import Job
from evalhub.jobs.selectors import JOB_SCOPE


def job_status_payload(job: Job) -> dict[str, Any]:
    """What the progress bar needs; the same shape the page renders first."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "done": job.progress_done,
        "total": job.progress_total,
        "fraction": round(job.progress_fraction, 4),
        "note": job.progress_note,
        "error": job.error,
        "finished": job.is_finished,
        "cancel_requested": job.cancel_requested,
        "result": job.result,
        "waiting": selectors.job_waiting_reason(job),
    }


@researcher_required
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/list.html", {"jobs": selectors.jobs_recent(team=request.team)})


@researcher_required(scope=JOB_SCOPE)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(selectors.team_jobs(team=request.team), pk=job_id)
    return render(request, "jobs/detail.html", {"job": job, "status": job_status_payload(job)})


@researcher_required(scope=JOB_SCOPE)
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(selectors.team_jobs(team=request.team), pk=job_id)
    return JsonResponse(job_status_payload(job))


@require_POST
@researcher_required(scope=JOB_SCOPE)
def job_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(selectors.team_jobs(team=request.team), pk=job_id)
    services.job_cancel(job_id=job.pk)
    return redirect("jobs:detail", job_id=job.pk)
