"""`make test`: the parallel pass, then the serial group alone.

    python -m tests.suite [pytest arguments]

The first pass runs every test not marked `serial` on TEST_WORKERS pytest-xdist workers
(default 3; tests/isolation.py gives each its own Redis, database and servers). The second
runs the `serial` tests (fault injection) in one process, with nothing else of the suite
beside them. The same arguments narrow both passes; a pass left empty by them succeeds."""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest"]
    workers = os.environ.get("TEST_WORKERS", "3")
    parallel = [*pytest, "-n", workers, "--dist", "loadgroup", "--suite-pass=parallel", *argv]
    code = subprocess.call(parallel)
    # The serial group runs whatever the first pass gave, so one run reports every failure.
    serial = subprocess.call([*pytest, "--suite-pass=serial", *argv])
    return code or serial


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
