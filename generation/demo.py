"""The demo's generation step: a local model answers the demo prompts on this machine.

By default that model is the tiny random Llama built into var/tiny-model. It writes
gibberish: it is there to show the real path (a generation worker, vLLM, chunked saving,
provenance), not good answers. EVALHUB_DEMO_MODEL_PATH points the demo at real weights."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.text import slugify

from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.services import model_register
from evalhub.prompts.models import PromptSet
from generation.selectors import samples_missing
from generation.services import generation_run_create

MODEL_PATH_ENV = "EVALHUB_DEMO_MODEL_PATH"
TINY_SLUG = "tiny-lima"
# The tiny model almost never emits its end-of-turn token, so every answer would run to
# LIMA's 2048 tokens; 256 keeps the demo's CPU busy for a minute, not a quarter of an hour.
TINY_MAX_TOKENS = 256


@dataclass(frozen=True)
class DemoGeneration:
    model: ModelEntry
    job: Job | None  # None when every output is already there
    lines: list[str]


def demo_engine_env() -> None:
    """Environment defaults the demo's workers inherit: a small CPU KV cache, no downloads."""
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def demo_generation_start(*, prompt_set: PromptSet, base_url: str) -> DemoGeneration:
    """Register the demo's local model and queue a job for the outputs it still lacks
    (no second job while one is queued or running). Builds the tiny model if needed."""
    real_path = os.environ.get(MODEL_PATH_ENV, "").strip()
    if real_path:
        model = model_register(
            team=prompt_set.team,
            slug=f"demo-local-{slugify(Path(real_path).name)[:40] or 'model'}",
            name=f"Local model {real_path}",
            kind=ModelEntry.Kind.LOCAL,
            model_path=real_path,
        )
    else:
        tiny_dir = settings.VAR_DIR / "tiny-model"
        if not (tiny_dir / "config.json").exists():
            from generation.tiny_model import build_tiny_model

            build_tiny_model(tiny_dir)
        model = model_register(
            team=prompt_set.team,
            slug=TINY_SLUG,
            name="Tiny random Llama (writes gibberish)",
            kind=ModelEntry.Kind.LOCAL,
            model_path=str(tiny_dir),
            generation_config={"max_tokens": TINY_MAX_TOKENS},
        )
    job = Job.objects.filter(
        kind=Job.Kind.GENERATION,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        params__model=model.slug,
        params__prompt_set=prompt_set.slug,
    ).first()
    if job is None and samples_missing(model=model, prompt_set=prompt_set, samples=1):
        job = generation_run_create(model=model, prompt_set=prompt_set)
    lines = [f"  generation    model {model.slug} on {prompt_set.slug}"]
    if job is not None:
        lines.append(f"                progress at {base_url}/jobs/{job.pk}/")
    else:
        lines.append("                all outputs are already there")
    if not real_path:
        lines += [
            "                NOTE: this is a tiny model with random weights, built here.",
            "                It writes gibberish; it only shows the real vLLM path.",
            f"                For real answers: {MODEL_PATH_ENV}=/path/to/weights make demo",
        ]
    return DemoGeneration(model=model, job=job, lines=lines)
