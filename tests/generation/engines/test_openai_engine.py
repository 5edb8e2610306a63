"""The OpenAI-compatible backend against a real `vllm serve` of the tiny model on loopback.
Refusals the real server never makes (OpenAI's 400 for repetition_penalty, a 429) come from a
small proxy in front of it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry, Output
from generation.engines import GenerationError, GenerationRequest
from generation.engines.openai_engine import OpenAICompatibleEngine
from generation.engines.selection import engine_for
from generation.sampling import sampling_from
from generation.services import generation_run_create
from tests.factories import ModelEntryFactory
from tests.support import wait_until

pytestmark = [pytest.mark.vllm, pytest.mark.django_db(transaction=True)]


def requests_for(n: int) -> list[GenerationRequest]:
    return [
        GenerationRequest(key=(i, 0), messages=[{"role": "user", "content": f"Q{i}?"}], seed=i)
        for i in range(n)
    ]


class Proxy:
    """Forwards to the real server, except: with refuse_repetition_penalty it answers 400 like
    api.openai.com to bodies carrying repetition_penalty; `fail_next_with_429` answers that
    many requests with 429 first. It records every body it saw."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refuse_repetition_penalty = False
        self.fail_next_with_429 = 0
        self.bodies: list[dict] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(raw)
                proxy.bodies.append(body)
                if proxy.fail_next_with_429 > 0:
                    proxy.fail_next_with_429 -= 1
                    return self.reply(429, {"error": {"message": "Rate limit reached"}})
                if proxy.refuse_repetition_penalty and "repetition_penalty" in body:
                    return self.reply(400, {"error": {
                        "message": "Unrecognized request argument supplied: repetition_penalty",
                        "type": "invalid_request_error"}})  # fmt: skip
                upstream = httpx.post(
                    proxy.upstream + self.path.removeprefix("/v1"), content=raw,
                    headers={"content-type": "application/json"}, timeout=120,
                )  # fmt: skip
                self.reply(upstream.status_code, upstream.json())

            def reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "10")
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxy(vllm_server) -> Iterator[Proxy]:
    proxy = Proxy(vllm_server)
    yield proxy
    proxy.server.shutdown()


@pytest.fixture
def tiny_api(vllm_server) -> ModelEntry:
    return ModelEntryFactory(
        slug="tiny-api", kind=ModelEntry.Kind.API, base_url=vllm_server, model_path="tiny"
    )


def test_the_backend_sends_limas_parameters_and_reports_tokens(tiny_api, proxy):
    engine = engine_for(tiny_api)
    engine.base_url = proxy.url
    sampling = sampling_from(("overrides", {"max_tokens": 12, "stop": ["###"]}))
    chunks = list(engine.generate(requests_for(5), sampling, chunk_size=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    completions = sorted((c for chunk in chunks for c in chunk), key=lambda c: c.key)
    assert [c.key for c in completions] == [(i, 0) for i in range(5)]
    for c in completions:
        assert 0 < c.completion_tokens <= 12 and c.prompt_tokens > 0
        assert c.finish_reason in {"stop", "length"}
        assert c.provenance["response_model"] == "tiny"
        assert c.provenance["repetition_penalty_applied"] is True
    body = proxy.bodies[0]
    assert {k: body[k] for k in ("model", "temperature", "top_p", "max_tokens", "stop")} == {
        "model": "tiny", "temperature": 0.7, "top_p": 0.9, "max_tokens": 12, "stop": ["###"],
    }  # fmt: skip
    assert body["repetition_penalty"] == 1.2
    assert sorted(b["seed"] for b in proxy.bodies) == [0, 1, 2, 3, 4]
    assert engine.describe()["engine"] == "openai-compatible"


def test_a_penalty_the_endpoint_refuses_is_dropped_and_recorded(tiny_api, proxy):
    proxy.refuse_repetition_penalty = True
    engine = engine_for(tiny_api)
    engine.base_url = proxy.url
    engine.concurrency = 1
    sampling = sampling_from(("overrides", {"max_tokens": 4}))
    [chunk] = list(engine.generate(requests_for(2), sampling, chunk_size=10))
    assert [c.provenance["repetition_penalty_applied"] for c in chunk] == [False, False]
    # One refusal, then every request goes without it.
    assert ["repetition_penalty" in b for b in proxy.bodies] == [True, False, False]


def test_rate_limits_are_retried(tiny_api, proxy):
    proxy.fail_next_with_429 = 2
    engine = engine_for(tiny_api)
    engine.base_url = proxy.url
    [chunk] = list(engine.generate(requests_for(1), sampling_from(), chunk_size=1))
    assert chunk[0].completion_tokens > 0
    assert len(proxy.bodies) == 3


def test_a_missing_key_variable_is_named(tiny_api, monkeypatch):
    monkeypatch.delenv("TINY_API_KEY", raising=False)
    tiny_api.api_key_env = "TINY_API_KEY"
    with pytest.raises(GenerationError, match="needs the environment variable TINY_API_KEY"):
        OpenAICompatibleEngine.for_model(tiny_api)


@pytest.mark.worker
def test_a_generation_job_for_an_api_model_runs_on_the_worker(
    generation_worker, tiny_api, make_prompt_set
):
    prompt_set = make_prompt_set("api-job", 4)
    job = generation_run_create(
        model=tiny_api, prompt_set=prompt_set, samples=2, overrides={"max_tokens": 8}
    )
    done = wait_until(
        lambda: Job.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first(),
        timeout=300,
        interval=0.5,
    )
    assert done.status == "succeeded", done.error
    assert done.result == {"generated": 8, "already_present": 0, "total": 8}
    prov = Output.objects.filter(model=tiny_api).first().provenance
    assert prov["engine"] == "openai-compatible"
    assert prov["base_url"] == tiny_api.base_url
    assert prov["sampling"]["max_tokens"] == 8
    assert {"seed", "prompt_tokens", "completion_tokens", "finish_reason"} <= set(prov)
