"""Every benchmark at its --smoke size, so that a change that breaks a bench fails CI.

Each runs as the README says to run it (a subprocess from the repository root), on the
test session's PostgreSQL server and Redis database; benches make and drop their own scratch
databases. Not serial: a bench's servers (on free ports), its Redis (`bench_redis`, one per
xdist worker) and its scratch database (named by the bench) are its own, and a smoke checks
that a bench runs, not a figure; so the smokes spread over the xdist workers like other
tests. (Run one at a time on one worker, they were the suite's critical path.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from bench.fastchat_venv import FASTCHAT_COMMIT, fastchat_source
from tests.conftest import database_url_for_workers
from tests.faults import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
BENCHES = [
    "adaptive_pairing",
    "api_bulk",
    "crowd_quality",
    "crowd_simulation",
    "dashboard_latency",
    "judge_throughput",
    "lc_vs_alpaca_eval",
    "publish",
    "rating_load",
    "stats_vs_fastchat",
    "team_lists",
    "training",
    pytest.param("generation", marks=pytest.mark.vllm),
]


def test_every_bench_is_smoked() -> None:
    # Modules the benches import, and the FastChat style-control run, which needs a FastChat
    # checkout that no registry serves (bench/fastchat_venv.py).
    helpers = {"alpaca_lc_reference", "alpaca_difficulty_reference", "alpaca_venv",
               "rating_wsgi", "rating_statements", "list_cases", "fastchat_venv", "venvs",
               "fastchat_style_reference", "style_control_vs_fastchat", "bench_team", "scratch",
               "__init__"}  # fmt: skip
    names = {getattr(b, "values", [b])[0] for b in BENCHES} | {"live_stream"}
    assert {p.stem for p in (ROOT / "bench").glob("*.py")} - helpers == names


@pytest.fixture(scope="module")
def bench_redis() -> Iterator[str]:
    """A redis-server of the benches' own, for their cache and broker alike: a bench's
    Celery worker must not meet the session's workers on their queues."""
    server = PrivateRedis()
    server.start()
    yield server.url(0)
    server.stop(save=False)
    shutil.rmtree(server.dir, ignore_errors=True)


def run_smoke(bench: str, redis_url: str, *args: str) -> str:
    """Run bench/<bench>.py --smoke as the README says; its stdout, once it exited 0."""
    # The test database's server; benches make their own scratch databases on it.
    server = urlunparse(urlparse(database_url_for_workers())._replace(path="/postgres"))
    env = {**os.environ, "DATABASE_URL": server, "BENCH_REDIS_URL": redis_url,
           "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url, "PYTHONUNBUFFERED": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{bench}.py"), *args, "--smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return done.stdout


@pytest.mark.parametrize("bench", BENCHES)
def test_bench_runs_at_smoke_size(bench: str, bench_redis: str) -> None:
    out = run_smoke(bench, bench_redis)
    assert "ratio" in out, out[-4000:]


@pytest.mark.vllm
def test_the_live_stream_bench_runs_against_the_sessions_vllm_serve(
    vllm_server: str, bench_redis: str
) -> None:
    """It shares the session's `vllm serve` rather than starting one of its own, so it runs
    in the engine group (one test at a time too; tests/isolation.py)."""
    out = run_smoke("live_stream", bench_redis, "--vllm", vllm_server)
    assert "ratio" in out, out[-4000:]


def test_the_style_control_bench_runs_against_fastchats_own_code(bench_redis: str) -> None:
    if fastchat_source() is None:
        pytest.skip(f"no FastChat rating_systems.py at bench/.fastchat-src ({FASTCHAT_COMMIT[:7]})")
    out = run_smoke("stats_vs_fastchat", bench_redis, "--style-control")
    assert f"@{FASTCHAT_COMMIT[:7]}" in out and "ratio: " in out, out[-4000:]
    assert "+1 sd of length is worth" in out, out[-4000:]
