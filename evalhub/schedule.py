"""Every periodic task, in one place (run by `celery beat`)."""

import os

from evalhub.queues import CeleryQueue

BEAT_SCHEDULE = {
    "jobs-sweep-stale": {
        "task": "jobs.sweep_stale",
        "schedule": 60.0,
        "options": {"queue": CeleryQueue.DEFAULT.value},
    },
    "studies-assignments-expire": {
        "task": "studies.assignments_expire",
        "schedule": 60.0,
        "options": {"queue": CeleryQueue.DEFAULT.value},
    },
    "pipeline-tick": {
        "task": "pipeline.tick",
        "schedule": float(os.environ.get("EVALHUB_PIPELINE_TICK_SECONDS", "30")),
        "options": {"queue": CeleryQueue.DEFAULT.value},
    },
}
