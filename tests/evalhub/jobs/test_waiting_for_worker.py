"""A queued job says when no worker listens on its queue, and /healthz lists the workers
per queue, both from the workers' own heartbeats (evalhub.workers)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_dispatch
from tests.conftest import WorkerProcess
from tests.factories import lab_team
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_job_says_no_worker_listens_then_runs_once_one_does(
    alice, import_file, worker_env, broker_clean
):
    # A queue of its own: the session's workers (default, judge) must not take the job.
    queue = f"wait-{uuid.uuid4().hex[:6]}"
    job = Job.objects.create(team=lab_team(), kind="import", params=import_file, queue=queue)
    assert job_dispatch(job_id=job.pk)
    client = Client()
    client.force_login(alice)

    status = client.get(f"/jobs/{job.pk}/status.json").json()
    assert status["status"] == "queued"
    assert status["waiting"] == f"no worker is listening on queue `{queue}`"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"no worker is listening on queue <code>{queue}</code>" in page
    assert f"celery -A evalhub worker -Q {queue}" in page
    assert client.get("/healthz").json()["workers"].get(queue) is None  # nobody heard on it

    worker = WorkerProcess([queue], worker_env, "waiting")
    worker.start()
    try:
        # The worker's first heartbeat lists it; then it takes the waiting message.
        health = wait_until(lambda: client.get("/healthz").json()["workers"].get(queue), timeout=30)
        assert health == [worker.name]
        done = wait_until(
            lambda: Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).first(), timeout=60
        )
        assert done.result == {"created": 3, "unchanged": 0}
        assert client.get(f"/jobs/{job.pk}/status.json").json()["waiting"] == ""
    finally:
        worker.stop()
    # A stopped worker drops out at once (it clears its key on shutdown).
    assert client.get("/healthz").json()["workers"].get(queue, []) == []


def test_healthz_lists_every_queue(client):
    workers = client.get("/healthz").json()["workers"]
    assert {"default", "judge", "generation", "training"} <= set(workers)
