"""`python -m evalhub.devstack demo`: the demo's PostgreSQL when none answers at DATABASE_URL.
It starts a private server under var/, makes the demo's database, keeps the data between
runs and stops the server when the command ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from evalhub.devstack import ROOT, free_port

# Prints the database it was given, and leaves a row behind for the next run to find.
PROBE = """
import os, psycopg
with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
    conn.execute("INSERT INTO kept VALUES (1)")
    name, = conn.execute("SELECT current_database()").fetchone()
    rows, = conn.execute("SELECT count(*) FROM kept").fetchone()
print(f"database={name} rows={rows}")
"""


def _demo_stack(var: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        # Nothing answers on this port, so the private server starts.
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/evalhub",
        "EVALHUB_VAR_DIR": str(var),
    }
    return subprocess.run(
        [sys.executable, "-m", "evalhub.devstack", "demo", "--", sys.executable, "-c", PROBE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def test_the_demo_starts_a_private_postgresql_keeps_its_data_and_stops_it(tmp_path):
    var = tmp_path / "var"
    first = _demo_stack(var)
    assert "started a private PostgreSQL" in first.stderr
    assert "made the database evalhub" in first.stderr
    assert "database=evalhub rows=1" in first.stdout
    # Stopped with the command: no postmaster.pid left under its data directory.
    assert not (var / "pgdata" / "postmaster.pid").exists()

    second = _demo_stack(var)
    assert "made the database" not in second.stderr
    assert "database=evalhub rows=2" in second.stdout
    assert not (var / "pgdata" / "postmaster.pid").exists()
