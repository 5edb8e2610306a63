"""Fixtures for live studies: the ASGI server (uvicorn, as the Procfile's web-live runs
it) on the test database, two models at the real `vllm serve`, and a relay to kill."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from evalhub.devstack import free_port
from tests.conftest import LOG_DIR, ROOT
from tests.evalhub.live.proxy import CuttingRelay
from tests.factories import lab_team
from tests.support import wait_until


@pytest.fixture(scope="module")
def asgi_server(worker_env: dict[str, str]) -> Iterator[str]:
    """uvicorn serving evalhub.asgi on the test database; yields its base URL."""
    port = free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / "live-uvicorn.log", "ab")  # owned by the child for its lifetime
    popen = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "evalhub.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=worker_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if popen.poll() is not None:
            raise AssertionError(f"uvicorn exited; see {LOG_DIR / 'live-uvicorn.log'}")
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=60, interval=0.5)
    yield base
    popen.terminate()
    try:
        popen.wait(timeout=20)
    except subprocess.TimeoutExpired:
        popen.kill()


@pytest.fixture
def relay(vllm_server: str) -> Iterator[CuttingRelay]:
    proxy = CuttingRelay(urlparse(vllm_server).port)
    proxy.base_url = proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def two_models(vllm_server: str):
    """Two registered API models: the two names the real `vllm serve` answers to."""
    from evalhub.outputs.models import ModelEntry

    def model(slug: str, served: str, name: str) -> ModelEntry:
        return ModelEntry.objects.create(
        team=lab_team(),
            slug=slug, name=name, kind=ModelEntry.Kind.API, base_url=vllm_server,
            model_path=served, generation_config={"max_tokens": 48},
        )  # fmt: skip

    return [model("lima-zero-shot", "tiny", "LIMA zero-shot"),
            model("lima-dialogue", "tiny-b", "LIMA with dialogue")]  # fmt: skip
