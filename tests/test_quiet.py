"""The flush after a transactional test waits for the servers that outlive the test
(tests/quiet.py). Each server is held inside the test's work by a lock on the jobs table
(taken from a connection of the test's own),
the way the CSP test's dashboard fit once held a table while the flush truncated them all:
while it is held, servers_quiet() names it and does not return; once released, it does."""

from __future__ import annotations

import threading

import psycopg
import pytest
import requests
from celery import current_app
from django.test import Client

from evalhub.jobs.models import Job
from evalhub.jobs.services import JOB_RUN_TASK
from evalhub.queues import CeleryQueue
from tests import quiet
from tests.conftest import database_url_for_workers
from tests.factories import lab_team
from tests.faults import RowLock, postgres_blocked_backends
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


class TableLock:
    """ACCESS EXCLUSIVE on a table from a connection of its own, until released."""

    def __init__(self, table: str) -> None:
        self.conn = psycopg.connect(
            database_url_for_workers().replace("postgres://", "postgresql://")
        )
        self.conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def still_busy(expected: str) -> None:
    """servers_quiet() gives up, naming what is busy (the lock is held: it stays busy)."""
    with pytest.raises(AssertionError, match=expected):
        quiet.servers_quiet(timeout=1)


def test_the_flush_waits_for_a_celery_worker_inside_a_job(celery_worker):
    job = Job.objects.create(
        team=lab_team(), kind="import", params={"rows": 0}, queue=CeleryQueue.DEFAULT.value
    )
    lock = RowLock(Job._meta.db_table, job.pk)
    try:
        current_app.send_task(JOB_RUN_TASK, args=[job.pk], queue=job.queue)
        wait_until(postgres_blocked_backends, timeout=120)  # the worker's claim waits
        still_busy("Celery workers busy")
    finally:
        lock.release()
    quiet.servers_quiet()
    assert Job.objects.get(pk=job.pk).status not in (Job.Status.QUEUED, Job.Status.RUNNING)


def test_the_flush_waits_for_a_live_server_request_in_flight(live_server, alice):
    job = Job.objects.create(team=lab_team(), kind="import", status=Job.Status.RUNNING)
    client = Client()
    client.force_login(alice)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    answers: list[int] = []
    lock = TableLock(Job._meta.db_table)
    try:
        request = threading.Thread(
            target=lambda: answers.append(
                requests.get(f"{live_server.url}/jobs/{job.pk}/status.json", cookies=cookies,
                             timeout=120).status_code
            )
        )  # fmt: skip
        request.start()
        wait_until(postgres_blocked_backends, timeout=60)  # the page's read waits
        still_busy("live-server request")
    finally:
        lock.release()
    quiet.servers_quiet()
    assert quiet.live_requests is not None and quiet.live_requests.count == 0
    request.join(timeout=60)
    assert answers == [200]


def test_the_flush_waits_for_any_connection_inside_a_transaction():
    lock = TableLock(Job._meta.db_table)
    try:
        still_busy("database connections busy.*idle in transaction")
    finally:
        lock.release()
    quiet.servers_quiet()
