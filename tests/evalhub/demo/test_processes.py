"""The demo's Supervisor stops each process with everything it started (Ctrl-C stops all)."""

from __future__ import annotations

import os
import sys
import time

from evalhub.demo.processes import Process, Supervisor

# A child that starts a grandchild deaf to SIGTERM, as a Celery worker starts vLLM's engine
# core, prints its pid, and waits.
PARENT = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(grandchild.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


def test_stop_takes_the_grandchildren_along(tmp_path):
    log = tmp_path / "parent.log"
    supervisor = Supervisor([Process("parent", [sys.executable, "-c", PARENT], log=str(log))])
    supervisor.start()
    deadline = time.monotonic() + 30
    while not log.read_text().strip():  # the grandchild is started once its pid is written
        assert time.monotonic() < deadline, "the child never started its grandchild"
        time.sleep(0.05)
    grandchild = int(log.read_text().split()[0])
    assert _alive(grandchild)

    supervisor.stop()

    deadline = time.monotonic() + 10
    while _alive(grandchild):  # SIGKILL is asynchronous: wait for the kernel, not a time
        assert time.monotonic() < deadline, "the grandchild outlived the demo"
        time.sleep(0.05)
