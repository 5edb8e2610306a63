from django.db.models import Q, QuerySet

from evalhub.jobs.models import Job
from evalhub.teams.models import Team


def job_get(*, job_id: int) -> Job:
    return Job.objects.get(pk=job_id)


def team_jobs(*, team: Team) -> QuerySet[Job]:
    """The jobs a member of `team` sees: the team's own, and those on things no team owns
    yet (generation and training of shared models); another team's job is not found."""
    return Job.objects.filter(Q(team=team) | Q(team__isnull=True))


def jobs_recent(*, team: Team, limit: int = 50) -> QuerySet[Job]:
    return team_jobs(team=team).order_by("-created_at")[:limit]


def job_waiting_reason(job: Job) -> str:
    """Why a queued job has not started, when we can tell; "" otherwise."""
    from evalhub.workers import queue_has_worker

    if job.status != Job.Status.QUEUED:
        return ""
    if queue_has_worker(job.queue) is False:
        return f"no worker is listening on queue `{job.queue}`"
    return ""
