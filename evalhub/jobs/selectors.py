from django.db.models import QuerySet

from evalhub.jobs.models import Job


def job_get(*, job_id: int) -> Job:
    return Job.objects.get(pk=job_id)


def jobs_recent(*, limit: int = 50) -> QuerySet[Job]:
    return Job.objects.order_by("-created_at")[:limit]
