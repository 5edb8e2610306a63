"""The pipeline's periodic tick re-sends step jobs whose broker message was lost."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from evalhub.jobs.models import Job
from evalhub.outputs.models import Output
from evalhub.pipeline.models import Pipeline
from evalhub.pipeline.services import REDISPATCH_AFTER, pipelines_tick
from tests.factories import ModelEntryFactory, PromptFactory, PromptSetFactory
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def import_params(tmp_path):
    prompt_set = PromptSetFactory(slug="tick")
    for i in range(2):
        PromptFactory(prompt_set=prompt_set, external_id=f"q{i}")
    ModelEntryFactory(slug="tick-model")
    path = tmp_path / "outs.jsonl"
    path.write_text("\n".join(json.dumps({"external_id": f"q{i}", "output": "x"}) for i in (0, 1)))
    return {"path": str(path), "prompt_set": "tick", "model": "tick-model"}


def test_a_queued_step_whose_message_was_lost_runs_after_the_tick(celery_worker, import_params):
    own = Job.objects.create(kind=Job.Kind.PIPELINE, queue="default", status=Job.Status.RUNNING)
    pipeline = Pipeline.objects.create(slug="tick", name="tick", job=own)
    # Queued but never sent: what a broker restart without persistence leaves behind.
    lost = Job.objects.create(kind="import", params=import_params, queue="default")

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
    assert Output.objects.filter(model__slug="tick-model").count() == 2
    own.refresh_from_db()
    assert own.status == Job.Status.RUNNING  # the tick never sends a running job again
