"""Thin tasks: take an id, claim the row, call the handler, write the outcome on the row."""

import logging
import traceback

from celery import shared_task

from evalhub.jobs import services
from evalhub.jobs.handlers import handler_for
from evalhub.jobs.models import Job
from evalhub.jobs.signals import job_finished

log = logging.getLogger(__name__)


@shared_task(name=services.JOB_RUN_TASK, acks_late=True, reject_on_worker_lost=True)
def job_run(job_id: int) -> None:
    if not services.job_claim(job_id=job_id):
        log.info("job %s already claimed or finished; ignoring this delivery", job_id)
        return
    job = Job.objects.get(pk=job_id)
    try:
        result = handler_for(job.kind)(job)
    except services.JobCancelled:
        services.job_mark_cancelled(job_id=job_id)
    except Exception as exc:  # the failure belongs on the job row, where people look
        log.exception("job %s failed", job_id)
        services.job_fail(
            job_id=job_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
        )
    else:
        services.job_succeed(job_id=job_id, result=result or {})
    job_finished.send(sender=Job, job_id=job_id)  # e.g. a pipeline waiting on it goes on


@shared_task(name="jobs.sweep_stale")
def jobs_sweep_stale() -> list[int]:
    return services.jobs_sweep_stale()
