"""Every periodic task, in one place (run by `celery beat`)."""

from evalhub.queues import CeleryQueue

BEAT_SCHEDULE = {
    "jobs-sweep-stale": {
        "task": "jobs.sweep_stale",
        "schedule": 60.0,
        "options": {"queue": CeleryQueue.DEFAULT.value},
    },
}
