"""The pipeline's periodic tick re-sends step jobs whose broker message was lost."""

import datetime as dt

import pytest
from django.utils import timezone

from evalhub.jobs.models import Job
from evalhub.outputs.models import Output
from evalhub.pipeline.models import Pipeline
from evalhub.pipeline.services import REDISPATCH_AFTER, pipelines_tick
from tests.factories import lab_team
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_queued_step_whose_message_was_lost_runs_after_the_tick(celery_worker, import_file):
    own = Job.objects.create(
        kind=Job.Kind.PIPELINE, queue="default", status=Job.Status.RUNNING, team=lab_team()
    )
    pipeline = Pipeline.objects.create(slug="tick", name="tick", job=own)
    # Queued but never sent: what a broker restart without persistence leaves behind.
    lost = Job.objects.create(kind="import", params=import_file, queue="default", team=lab_team())

    assert pipelines_tick() == ["tick"]  # too young to be called lost: nothing is re-sent
    pipeline.refresh_from_db()
    assert pipeline.last_redispatch_at is not None
    lost.refresh_from_db()
    assert lost.status == Job.Status.QUEUED and lost.attempts == 0

    later = timezone.now() + REDISPATCH_AFTER + dt.timedelta(seconds=1)
    assert pipelines_tick(now=later) == ["tick"]
    done = wait_until(
        lambda: Job.objects.filter(pk=lost.pk, status="succeeded").first(), timeout=60
    )
    assert done.attempts == 1  # sent once, run once
    assert Output.objects.filter(model__slug="m").count() == 3
    own.refresh_from_db()
    assert own.status == Job.Status.RUNNING  # the tick never sends a running job again
