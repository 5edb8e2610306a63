from django.db.models import QuerySet

from evalhub.jobs.models import Job


def job_get(*, job_id: int) -> Job:
    return Job.objects.get(pk=job_id)


def jobs_recent(*, limit: int = 50) -> QuerySet[Job]:
    return Job.objects.order_by("-created_at")[:limit]


def job_waiting_reason(job: Job) -> str:
    """Why a queued job has not started, when we can tell; "" otherwise."""
    from evalhub.workers import queue_has_worker

    if job.status != Job.Status.QUEUED:
        return ""
    if queue_has_worker(job.queue) is False:
        return f"no worker is listening on queue `{job.queue}`"
    return ""
