from django.db.models import QuerySet

from evalhub.jobs.models import Job
from evalhub.teams.models import Team
from evalhub.teams.scope import TeamScope


def job_get(*, job_id: int) -> Job:
    """A job by id, whatever its team: for workers and services, never for a request."""
    return Job.objects.get(pk=job_id)


def team_jobs(*, team: Team) -> QuerySet[Job]:
    """The jobs a member of `team` sees: the team's own. Another team's job is not found,
    and no job is without a team (the migration jobs 0004 gave the old ones theirs)."""
    return Job.objects.filter(team=team)


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


# The gates resolve a job page's `job_id` within the caller's team before the role check.
JOB_SCOPE = TeamScope(team_jobs, "job", kwarg="job_id", field="pk")
