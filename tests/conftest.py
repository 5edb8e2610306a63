"""Session-wide fixtures: a real Celery worker process on the test database and Redis."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from evalhub.celery import app as celery_app
from evalhub.queues import CeleryQueue
from tests import quiet
from tests.isolation import die_with_parent
from tests.support import wait_until

# Browser fixtures (`browser`, `researcher_page`) shared by the page tests.
pytest_plugins = ["tests.browser"]

ROOT = Path(__file__).resolve().parent.parent
# Each xdist worker (gw0, gw1, ...) logs its servers apart.
LOG_DIR = ROOT / "var" / "test-logs" / os.environ.get("PYTEST_XDIST_WORKER", "main")


def database_url_for_workers() -> str:
    """The URL of the test database pytest-django made, for processes we start."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """A `celery worker` subprocess consuming some queues, like a deployed one. While it
    runs, a transactional test's flush waits for it to be idle (tests/quiet.py)."""

    # False for a worker on another broker than this process's (it cannot be pinged).
    on_test_broker = True

    def __init__(self, queues: list[str], env: dict[str, str], name: str) -> None:
        self.queues = queues
        self.env = env
        self.name = f"{name}-{uuid.uuid4().hex[:6]}@testhost"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        log = open(self.log_path, "ab")  # owned by the child for its lifetime
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "evalhub", "worker", "-P", "solo",
             "-Q", ",".join(self.queues), "-n", self.name, "-l", "info",
             "--without-gossip", "--without-mingle"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        wait_until(self._answers_ping, timeout=timeout, interval=0.5)
        if self.on_test_broker:
            quiet.worker_started(self.name, self.queues, self.running)

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _answers_ping(self) -> bool:
        if self.popen and self.popen.poll() is not None:
            raise AssertionError(f"worker exited; see {self.log_path}")
        return bool(celery_app.control.ping(destination=[self.name], timeout=0.5))

    def kill(self) -> None:
        quiet.worker_gone(self.name)
        if self.popen and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def stop(self) -> None:
        quiet.worker_gone(self.name)
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()


@pytest.fixture(scope="session")
def worker_env(django_db_setup: None) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for_workers()
    env["DEBUG"] = "1"
    env["REDIS_URL"] = settings.REDIS_URL
    return env


def _transactional(request: pytest.FixtureRequest) -> bool:
    """Whether pytest-django ends this test with a flush (as it decides it)."""
    marker = request.node.get_closest_marker("django_db")
    flagged = marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    )
    wanted = {"transactional_db", "live_server", "django_db_reset_sequences"}
    return bool(flagged or wanted & set(request.fixturenames))


@pytest.fixture(autouse=True)
def servers_quiet_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a transactional test, and before pytest-django's flush: the servers still
    running (live server, Celery workers, gunicorn) have finished the test's work.
    The database is set up first, so this teardown runs before the flush."""
    if not _transactional(request):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    quiet.servers_quiet()


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator:
    """pytest-django's live server, whose requests in flight are counted (tests/quiet.py):
    the flush after a test waits for its last ones."""
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr)
    httpd = server.thread.httpd
    quiet.live_requests = quiet.RequestsInFlight(httpd.get_app())
    httpd.set_app(quiet.live_requests)
    yield server
    quiet.live_requests = None
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def cache_clean() -> None:
    """Start the session with an empty cache: the test database is new, but study ids
    repeat across sessions and an old session's cached stats must not be served."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def broker_clean() -> None:
    """Start the session with empty queues so no message from an earlier run is consumed."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for queue in CeleryQueue:
        client.delete(queue.value)
    client.delete("unacked", "unacked_index")


@pytest.fixture(scope="session")
def celery_worker(worker_env: dict[str, str], broker_clean: None) -> Iterator[WorkerProcess]:
    """One real worker on the default and judge queues for the whole session."""
    worker = WorkerProcess(
        [CeleryQueue.DEFAULT.value, CeleryQueue.JUDGE.value], worker_env, "default"
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def own_queue() -> Iterator[Callable[[], AbstractContextManager[None]]]:
    """`with own_queue(): ...` sends the jobs made inside to a queue of this test's own that
    no worker consumes (a worker started by another test must not claim them); the test
    runs them itself. The queue is deleted afterwards."""
    from django.db import transaction

    from evalhub.jobs.models import Job

    queue = f"test-{uuid.uuid4().hex[:10]}"

    @contextmanager
    def jobs_on_own_queue() -> Iterator[None]:
        # The jobs are sent when this block commits, to the queue their row names.
        with transaction.atomic():
            before = Job.objects.order_by("-id").values_list("id", flat=True).first() or 0
            yield
            Job.objects.filter(id__gt=before).update(queue=queue)

    yield jobs_on_own_queue
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


@pytest.fixture
def alice(db):
    """A researcher, owner of the team "lab" that the factories' objects belong to."""
    from evalhub.accounts.services import user_create
    from evalhub.teams.models import Membership, Role
    from tests.factories import lab_team

    user = user_create(username="alice", password="alice-password-1", role="researcher")
    Membership.objects.create(user=user, team=lab_team(), role=Role.OWNER)
    return user


@pytest.fixture
def bob(db):
    """A rater (logged-in author who rates, not a researcher)."""
    from evalhub.accounts.services import user_create

    return user_create(username="bob", password="bob-password-1", role="rater")


# --- The tiny local model, vLLM workers and `vllm serve` ---------------------------------

TINY_MODEL_DIR = ROOT / "var" / "tiny-model"
VLLM_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The tiny Llama built locally (generation.tiny_model), reused across sessions. On a
    fresh clone one xdist worker builds it while the others wait on the lock, so none reads
    a half-written checkpoint."""
    from generation.tiny_model import build_tiny_model

    TINY_MODEL_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(TINY_MODEL_DIR.parent / "tiny-model.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (TINY_MODEL_DIR / "config.json").exists():
            build_tiny_model(TINY_MODEL_DIR)
    return TINY_MODEL_DIR


@pytest.fixture(scope="session")
def generation_worker(
    worker_env: dict[str, str], broker_clean: None, tiny_model_dir: Path
) -> Iterator[WorkerProcess]:
    """A real worker on the generation queue (--pool solo), running vLLM on the CPU."""
    worker = WorkerProcess([CeleryQueue.GENERATION.value], {**worker_env, **VLLM_ENV}, "generation")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def vllm_server(tiny_model_dir: Path) -> Iterator[str]:
    """A real vLLM OpenAI-compatible server (what `vllm serve` runs) of the tiny model on
    loopback; yields its /v1 base URL. The served model names are "tiny" and "tiny-b" (two
    aliases of the same weights, for tests that need two models; responses say "tiny")."""
    import httpx

    from evalhub.devstack import free_port

    port = free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / "vllm-serve.log", "ab")  # owned by the child for its lifetime
    # The server `vllm serve` runs. Started as a module: vllm-cpu registers its metadata as
    # "vllm-cpu", and the `vllm` console script then exits at once.
    popen = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
         str(tiny_model_dir), "--host", "127.0.0.1", "--port", str(port),
         "--served-model-name", "tiny", "tiny-b", "--max-model-len", "2048",
         "--gpu-memory-utilization", "0.3", "--seed", "0",
         # Compact JSON: otherwise a random model pads JSON-schema answers with whitespace
         # up to max_tokens. Guided choice is unaffected.
         "--structured-outputs-config",
         '{"backend": "xgrammar", "disable_any_whitespace": true}'],
        env={**os.environ, **VLLM_ENV}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if popen.poll() is not None:
            raise AssertionError(f"vllm serve exited; see {LOG_DIR / 'vllm-serve.log'}")
        try:
            return httpx.get(f"{base}/v1/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        # A loaded machine starts it slowly (past 300 s on a 2-core machine at load 20+);
        # the wait ends as soon as it answers, so the cap costs nothing when it is quick.
        wait_until(ready, timeout=float(os.environ.get("VLLM_START_TIMEOUT_S", 600)), interval=1)
        yield f"{base}/v1"
    finally:  # also when it never came up: no server is left behind
        popen.terminate()
        try:
            popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            popen.kill()
