"""Which Celery workers are alive, and on which queues, from their own heartbeats.

Every worker sends Celery's heartbeat every 2 s (`heartbeat_sent`); each one also writes
`evalhub:worker:<hostname>` = {queues, busy} into the broker's Redis, expiring after
WORKER_TTL_S, so a stopped or killed worker drops out within seconds. A --pool solo worker
(generation, training) runs its task in the loop that sends heartbeats, so it marks itself
busy for the task's time limit before the task starts and clears that after.

Celery's own `inspect().active_queues()` answers the same question, but it is a broadcast
that waits out its timeout (1 s) on every call: too slow for a job page polled every
second. Reading a few keys takes well under a millisecond."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from celery.signals import heartbeat_sent, task_postrun, task_prerun, worker_shutdown
from django.conf import settings

from evalhub.queues import CeleryQueue

log = logging.getLogger(__name__)

KEY_PREFIX = "evalhub:worker:"
WORKER_TTL_S = 10  # five missed heartbeats (every 2 s) and a worker counts as gone
_TIMEOUT_S = 0.5
_client: tuple[str, redis.Redis] | None = None  # (the broker URL, its client)


def _redis() -> redis.Redis:
    global _client
    url = settings.CELERY_BROKER_URL
    if _client is None or _client[0] != url:
        _client = (url, redis.Redis.from_url(
            url, socket_timeout=_TIMEOUT_S, socket_connect_timeout=_TIMEOUT_S,
        ))  # fmt: skip
    return _client[1]


def worker_heartbeat_record(
    *, hostname: str, queues: list[str], busy: bool = False, ttl_s: int = WORKER_TTL_S
) -> None:
    """Say that `hostname` listens on `queues` for the next `ttl_s` seconds."""
    value = json.dumps({"hostname": hostname, "queues": sorted(queues), "busy": busy,
                        "seen": time.time()})  # fmt: skip
    _redis().set(KEY_PREFIX + hostname, value, ex=ttl_s)


def worker_heartbeat_clear(*, hostname: str) -> None:
    _redis().delete(KEY_PREFIX + hostname)


def workers_alive() -> list[dict[str, Any]]:
    """Every worker heard from in the last WORKER_TTL_S seconds (or busy on a task)."""
    client = _redis()
    keys = sorted(client.scan_iter(match=KEY_PREFIX + "*", count=100))
    values = client.mget(keys) if keys else []
    return [json.loads(v) for v in values if v is not None]  # a key may expire between the two


def workers_by_queue() -> dict[str, list[str]]:
    """{queue: [hostnames listening on it]} for every known queue, and any other one heard."""
    by_queue: dict[str, list[str]] = {q.value: [] for q in CeleryQueue}
    for worker in workers_alive():
        for queue in worker["queues"]:
            by_queue.setdefault(queue, []).append(worker["hostname"])
    return by_queue


def queue_has_worker(queue: str) -> bool | None:
    """True or False; None when Redis cannot say (the broker note covers that case)."""
    try:
        return bool(workers_by_queue().get(queue))
    except (redis.RedisError, OSError):
        return None


# --- In the worker process --------------------------------------------------------------


def _consumed_queues(app: Any) -> list[str]:
    return list(app.amqp.queues.consume_from or app.amqp.queues)


@heartbeat_sent.connect
def _on_heartbeat(sender: Any, **_: Any) -> None:
    eventer = sender.eventer
    try:
        worker_heartbeat_record(hostname=eventer.hostname, queues=_consumed_queues(eventer.app))
    except (redis.RedisError, OSError) as exc:  # the worker goes on; Celery reconnects
        log.warning("worker heartbeat not recorded: %s", exc)


@task_prerun.connect
def _on_task_start(sender: Any = None, task: Any = None, **_: Any) -> None:
    hostname = getattr(task.request, "hostname", None) if task else None
    if not hostname:
        return
    try:
        worker_heartbeat_record(
            hostname=hostname, queues=_consumed_queues(task.app), busy=True,
            ttl_s=int(settings.CELERY_TASK_TIME_LIMIT) + WORKER_TTL_S,
        )  # fmt: skip
    except (redis.RedisError, OSError) as exc:
        log.warning("worker busy mark not recorded: %s", exc)


@task_postrun.connect
def _on_task_end(sender: Any = None, task: Any = None, **_: Any) -> None:
    hostname = getattr(task.request, "hostname", None) if task else None
    if not hostname:
        return
    try:
        worker_heartbeat_record(hostname=hostname, queues=_consumed_queues(task.app))
    except (redis.RedisError, OSError) as exc:
        log.warning("worker heartbeat not recorded: %s", exc)


@worker_shutdown.connect
def _on_shutdown(sender: Any = None, **_: Any) -> None:
    hostname = getattr(sender, "hostname", None)
    if hostname:
        try:
            worker_heartbeat_clear(hostname=hostname)
        except (redis.RedisError, OSError):
            pass  # it expires on its own
