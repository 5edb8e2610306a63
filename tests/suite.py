"""`make test`: the whole suite on TEST_WORKERS pytest-xdist workers.

    python -m tests.suite [pytest arguments]

Every test runs in one pass on TEST_WORKERS workers (default 3) with `--dist loadgroup`:
tests/isolation.py gives each worker its own Redis, database and servers, keeps the tests of
one expensive server on one worker, and runs the tests marked `serial` (fault injection, the
bench smokes) one at a time on one worker."""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    workers = os.environ.get("TEST_WORKERS", "3")
    return subprocess.call(
        [sys.executable, "-m", "pytest", "-n", workers, "--dist", "loadgroup", *argv]
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
