"""Jobs through Redis and a real worker process: run, redelivery, and the sweeper."""

import datetime as dt

import pytest
from django.utils import timezone

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_claim, job_create, jobs_sweep_stale
from evalhub.jobs.tasks import job_run
from evalhub.outputs.models import Output
from tests.factories import lab_team
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def finished(job_id: int) -> Job | None:
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_a_worker_process_runs_a_job_from_redis_and_writes_to_the_database(
    celery_worker, import_file
):
    job = job_create(
        kind="import", params=import_file, team=lab_team()
    )  # dispatched on commit (autocommit here)
    done = wait_until(lambda: finished(job.pk), timeout=60)
    assert done.status == Job.Status.SUCCEEDED, done.error
    assert done.result == {"created": 3, "unchanged": 0}
    assert Output.objects.filter(model__slug="m").count() == 3


def test_a_redelivered_message_does_the_work_once(celery_worker, import_file):
    job = Job.objects.create(kind="import", params=import_file, queue="default", team=lab_team())
    job_run.apply_async(args=[job.pk], queue="default")
    job_run.apply_async(args=[job.pk], queue="default")  # the same message again
    done = wait_until(lambda: finished(job.pk), timeout=60)
    assert done.status == Job.Status.SUCCEEDED
    # Give the second delivery time to be consumed, then check it did nothing.
    wait_until(
        lambda: celery_worker.log_path.read_text().count(f"job {job.pk} already claimed"),
        timeout=30,
    )
    done.refresh_from_db()
    assert done.attempts == 1
    assert Output.objects.count() == 3


def test_a_job_is_claimed_once():
    job = Job.objects.create(kind="import", params={}, queue="default", team=lab_team())
    assert job_claim(job_id=job.pk) is True
    assert job_claim(job_id=job.pk) is False


def test_the_sweeper_redispatches_a_job_whose_worker_went_silent(celery_worker, import_file):
    job = Job.objects.create(
        team=lab_team(),
        kind="import", params=import_file, queue="default", status=Job.Status.RUNNING,
        attempts=1, heartbeat_at=timezone.now() - dt.timedelta(hours=1),
    )  # fmt: skip
    assert jobs_sweep_stale(stale_after=dt.timedelta(minutes=5)) == [job.pk]
    done = wait_until(lambda: finished(job.pk), timeout=60)
    assert done.status == Job.Status.SUCCEEDED and done.attempts == 2
    assert Output.objects.count() == 3


def test_the_sweeper_gives_up_after_the_attempt_limit(settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = Job.objects.create(
        team=lab_team(),
        kind="import", queue="default", status=Job.Status.RUNNING, attempts=2,
        heartbeat_at=timezone.now() - dt.timedelta(hours=1),
    )  # fmt: skip
    assert jobs_sweep_stale(stale_after=dt.timedelta(minutes=5)) == []
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "gave up after 2 attempts" in job.error


def test_a_failing_job_records_the_error(celery_worker, import_file):
    job = job_create(
        kind="import", params={**import_file, "prompt_set": "no-such-set"}, team=lab_team()
    )
    done = wait_until(lambda: finished(job.pk), timeout=60)
    assert done.status == Job.Status.FAILED
    assert "PromptSet matching query does not exist" in done.error
