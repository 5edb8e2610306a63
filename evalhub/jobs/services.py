"""Writes for jobs: create, claim, progress, finish, and re-dispatch when stuck.

A job is claimed with a conditional UPDATE (queued -> running) and a row-count check,
so two deliveries of the same message cannot both run it. The row is the job: a message the
broker could not take (it was down) is sent again by the sweeper."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from evalhub.cache_redis import REDIS_ERRORS
from evalhub.jobs.handlers import queue_for
from evalhub.jobs.models import Job
from evalhub.teams.models import Team

log = logging.getLogger(__name__)

WAITING_FOR_BROKER = "waiting for the broker"
# A job whose first send failed is sent again once it is this old (the sweeper runs every
# minute); a younger one may still have its on_commit send to come.
UNSENT_GRACE = dt.timedelta(seconds=10)
# Publishing gives up quickly: the job stays queued in PostgreSQL either way.
# The Celery task that runs a job (evalhub.jobs.tasks.job_run).
JOB_RUN_TASK = "jobs.run"
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


class JobCancelled(Exception):
    """Raised inside a handler when a researcher asked for the job to stop."""


def job_create(
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    requested_by: Any = None,
    team: Team,
) -> Job:
    """Create a queued job and send its id to the kind's queue once the transaction commits.
    `team`: whose job it is, the team of what it serves (a study, a run, a prompt set) or
    else of whoever asked; every job has one, so no job is seen outside its team."""
    if team is None:
        raise ValueError("a job belongs to a team: pass the team of what it serves")
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        queue=queue_for(kind),
        requested_by=requested_by,
        team=team,
    )
    transaction.on_commit(lambda: job_dispatch(job_id=job.pk))
    return job


def job_dispatch(*, job_id: int) -> bool:
    """Send the job's id to its queue. False when the broker cannot be reached: the job
    stays queued, says it is waiting for the broker, and the sweeper sends it later."""
    job = Job.objects.only("queue").get(pk=job_id)
    try:
        # By name: evalhub.jobs.tasks calls this module, so this module does not import it.
        current_app.send_task(
            JOB_RUN_TASK, args=[job_id], queue=job.queue, retry_policy=_PUBLISH_RETRY
        )
    except (BrokerError, *REDIS_ERRORS) as exc:
        log.warning("job %s stays queued until the broker is back: %s", job_id, exc)
        Job.objects.filter(id=job_id, status=Job.Status.QUEUED, dispatched_at=None).update(
            progress_note=WAITING_FOR_BROKER
        )
        return False
    sent = Job.objects.filter(id=job_id)
    sent.update(dispatched_at=timezone.now())
    sent.filter(progress_note=WAITING_FOR_BROKER).update(progress_note="")
    return True


def job_claim(*, job_id: int) -> bool:
    """Move a queued job to running. False when another delivery already has it."""
    now = timezone.now()
    claimed = Job.objects.filter(id=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        error="",
    )
    return claimed == 1


def job_progress(*, job_id: int, done: int, total: int | None = None, note: str = "") -> None:
    """Record progress and a heartbeat. Raises JobCancelled if a stop was requested."""
    fields: dict[str, Any] = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["progress_total"] = total
    if note:
        fields["progress_note"] = note[:300]
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING).update(**fields)
    if Job.objects.filter(id=job_id, cancel_requested=True).exists():
        raise JobCancelled(f"job {job_id} was cancelled")


def job_succeed(*, job_id: int, result: dict[str, Any] | None = None) -> None:
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, result=result or {}, finished_at=timezone.now()
    )


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(id=job_id).exclude(
        status__in=[Job.Status.SUCCEEDED, Job.Status.CANCELLED]
    ).update(status=Job.Status.FAILED, error=error[:20000], finished_at=timezone.now())


def job_cancel(*, job_id: int) -> None:
    """Ask a running job to stop at its next progress report; a queued one stops now."""
    Job.objects.filter(id=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    )
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING).update(cancel_requested=True)


def job_mark_cancelled(*, job_id: int) -> None:
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.CANCELLED, finished_at=timezone.now()
    )


def jobs_sweep_stale(*, stale_after: dt.timedelta | None = None) -> list[int]:
    """Put running jobs whose worker went silent back in their queue (or fail them after
    JOB_MAX_ATTEMPTS), and send queued jobs whose message never reached the broker, or went
    silent as long (a broker restarted without its queues). Returns the ids re-dispatched.
    Handlers must resume, not restart."""
    if stale_after is None:
        stale_after = dt.timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    cutoff = timezone.now() - stale_after
    redispatched: list[int] = []
    stale = Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
    for job in stale.only("id", "attempts", "heartbeat_at"):
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job_fail(job_id=job.pk, error=f"gave up after {job.attempts} attempts (worker lost)")
            continue
        # Conditional on the heartbeat we saw, so a worker that just reported keeps its job.
        requeued = Job.objects.filter(
            id=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(status=Job.Status.QUEUED, progress_note="re-dispatched by the sweeper")
        if requeued:
            job_dispatch(job_id=job.pk)
            redispatched.append(job.pk)
    now = timezone.now()
    unsent = Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(dispatched_at=None, created_at__lt=now - UNSENT_GRACE) | Q(dispatched_at__lt=cutoff)
    )
    for job_id in unsent.values_list("id", flat=True):
        # A duplicate message is harmless: only one delivery claims the job.
        if job_dispatch(job_id=job_id):
            redispatched.append(job_id)
    return redispatched
