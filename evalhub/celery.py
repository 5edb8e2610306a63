"""The Celery app: Redis broker, JSON only, settings under the CELERY_ namespace."""

import os

from celery import Celery
from kombu import Queue

from evalhub.queues import CeleryQueue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")

app = Celery("evalhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(q.value) for q in CeleryQueue]
app.autodiscover_tasks()
# Each worker writes its queues into Redis with every heartbeat (what /healthz and job pages read).
import evalhub.workers  # noqa: E402, F401

app.conf.beat_schedule = {}  # filled by evalhub.schedule


@app.on_after_configure.connect
def _install_schedule(sender: Celery, **_: object) -> None:
    from evalhub.schedule import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
