"""A job made while the broker is down stays queued in PostgreSQL, says it waits for the
broker, and the sweeper sends it once Redis is back (a real, private redis-server)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import urllib.request

import pytest
import redis
from django.test import Client
from django.utils import timezone

from evalhub.jobs.models import Job
from evalhub.jobs.services import WAITING_FOR_BROKER
from tests.conftest import ROOT

# Serial: it stops a Redis server of its own; one at a time with the fault tests (tests/isolation.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.serial]


def run_in_web_env(web, code: str) -> str:
    """Python run with the web server's settings (its private Redis as the broker)."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=ROOT, env=web.env, check=True, capture_output=True, text=True, timeout=120,
    ).stdout.strip().splitlines()[-1]  # fmt: skip


def test_a_job_made_while_the_broker_is_down_waits_and_the_sweeper_sends_it(
    web, private_redis, alice
):
    private_redis.stop(save=False)
    try:
        job_id = int(run_in_web_env(web, (
            "from django.db import transaction\n"
            "from evalhub.jobs.services import job_create\nfrom evalhub.teams.services import team_default\n"
            "with transaction.atomic():\n"
            "    job = job_create(kind='import', params={'rows': 0}, team=team_default())\n"
            "print(job.pk)"
        )))  # fmt: skip
        job = Job.objects.get(pk=job_id)
        assert job.status == Job.Status.QUEUED and job.dispatched_at is None
        assert job.progress_note == WAITING_FOR_BROKER
        client = Client()
        client.force_login(alice)
        request = urllib.request.Request(  # noqa: S310 - our own server on loopback
            f"{web.url}/jobs/{job_id}/status.json",
            headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            assert response.status == 200
            assert json.load(response)["note"] == "waiting for the broker"
        # Redis still down: the sweeper leaves it queued and fails nothing.
        Job.objects.filter(pk=job_id).update(created_at=timezone.now() - dt.timedelta(minutes=1))
        sweep = "from evalhub.jobs.services import jobs_sweep_stale\nprint(jobs_sweep_stale())"
        assert run_in_web_env(web, sweep) == "[]"
    finally:
        private_redis.start()
    assert run_in_web_env(web, sweep) == f"[{job_id}]"
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.QUEUED and job.dispatched_at is not None
    assert job.progress_note == ""
    assert redis.Redis(port=private_redis.port).llen("default") == 1  # the message, once
    assert run_in_web_env(web, sweep) == "[]"  # sent: not sent again
