"""Writes for generation: queue a generation run, and the job handler that runs it.

A run is a `Job` of kind "generation" on the generation queue. Its handler generates only
the (prompt, model, sample) outputs that are missing, saves them a chunk at a time, and so
resumes without duplicates after a killed worker, a redelivery or a re-dispatch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create, job_progress
from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.services import output_fields
from evalhub.prompts.models import PromptSet
from evalhub.teams.models import Team
from generation.engines import Completion, GenerationRequest
from generation.engines.selection import engine_for
from generation.sampling import Sampling, sample_seed, sampling_from
from generation.selectors import samples_missing

MAX_SAMPLES = 100


def run_sampling(*, model: ModelEntry, overrides: dict[str, Any] | None) -> Sampling:
    """LIMA defaults < the model's generation_config < the run's overrides (SamplingError
    names the layer and field of a bad value)."""
    return sampling_from(
        (f"model {model.slug!r} generation_config", model.generation_config),
        ("overrides", overrides),
    )


@transaction.atomic
def generation_run_create(
    *,
    model: ModelEntry,
    prompt_set: PromptSet,
    samples: int = 1,
    overrides: dict[str, Any] | None = None,
    requested_by: Any = None,
    team: Team | None = None,
) -> Job:
    """Queue a job generating `samples` outputs per prompt of `prompt_set` with `model`.
    The job belongs to `team` (the caller's current team), else to the model's team.

    Checks everything the worker would (model kind, sample count, decoding settings) so bad
    input fails here with a ValueError, not later on the worker."""
    if model.kind == ModelEntry.Kind.EXTERNAL:
        raise ValueError(
            f"model {model.slug!r} is external: its outputs are submitted, not generated"
        )
    if isinstance(samples, bool) or not isinstance(samples, int):
        raise ValueError(f"samples must be a whole number, not {samples!r}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between 1 and {MAX_SAMPLES}, not {samples}")
    run_sampling(model=model, overrides=overrides)
    return job_create(
        kind=Job.Kind.GENERATION,
        params={
            "model": model.slug,
            "prompt_set": prompt_set.slug,
            "samples": samples,
            "overrides": overrides or {},
        },
        requested_by=requested_by,
        team=team or model.team,
    )


@transaction.atomic
def generated_outputs_save(
    *, model: ModelEntry, completions: list[Completion], provenance: dict[str, Any]
) -> int:
    """Save one chunk of completions as outputs in one transaction; returns how many rows
    were new. A (prompt, model, sample) that already has an output is left alone, so a
    chunk saved twice (two deliveries racing) cannot duplicate or overwrite anything."""
    now = timezone.now().isoformat()
    rows = []
    for c in completions:
        # Byte-level tokenizers can emit a NUL byte, which PostgreSQL text cannot store.
        nul_bytes = c.text.count("\x00")
        rows.append(
            Output(
                prompt_id=c.key[0],
                model=model,
                sample_index=c.key[1],
                provenance={
                    **provenance,
                    **c.provenance,
                    "seed": c.seed,
                    "prompt_tokens": c.prompt_tokens,
                    "completion_tokens": c.completion_tokens,
                    "finish_reason": c.finish_reason,
                    "generated_at": now,
                    **({"nul_bytes_removed": nul_bytes} if nul_bytes else {}),
                },
                **output_fields(c.text.replace("\x00", "")),
            )
        )
    before = Output.objects.filter(model=model).count()
    Output.objects.bulk_create(rows, ignore_conflicts=True)
    return Output.objects.filter(model=model).count() - before


def generation_job_run(job: Job) -> dict[str, Any]:
    """Job handler (params: model, prompt_set, samples, overrides). Generates what is missing
    and returns {"generated", "already_present", "total"}; reports progress per chunk and a
    heartbeat while the engine works. Raises GenerationError with the engine's message."""
    params = job.params
    # Slugs are unique within a team only: the job's team names which.
    model = ModelEntry.objects.get(team=job.team, slug=params["model"])
    prompt_set = PromptSet.objects.get(team=job.team, slug=params["prompt_set"])
    samples = int(params.get("samples", 1))
    sampling = run_sampling(model=model, overrides=params.get("overrides"))
    missing = samples_missing(model=model, prompt_set=prompt_set, samples=samples)
    total = prompt_set.prompts.count() * samples
    done = total - len(missing)
    job_progress(job_id=job.pk, done=done, total=total, note=f"{len(missing)} samples to generate")
    if not missing:
        return {"generated": 0, "already_present": done, "total": total}

    engine = engine_for(model)
    provenance = {
        **engine.describe(),
        "model_slug": model.slug,
        "sampling": sampling.as_dict(),
        "base_seed": sampling.seed,
        "samples": samples,
        "job_id": job.pk,
    }
    requests = [
        GenerationRequest(
            key=(prompt.pk, index),
            messages=prompt.messages(),
            seed=sample_seed(sampling.seed, f"{prompt_set.slug}/{prompt.external_id}", index),
        )
        for prompt, index in missing
    ]
    generated = 0
    started = timezone.now()

    def heartbeat() -> None:
        # Keeps the sweeper off a live job and notices a cancel between chunks.
        job_progress(job_id=job.pk, done=done)

    chunks = engine.generate(
        requests, sampling, chunk_size=settings.GENERATION_CHUNK_SIZE, on_tick=heartbeat
    )
    try:
        for chunk in chunks:
            generated += generated_outputs_save(
                model=model, completions=chunk, provenance=provenance
            )
            done += len(chunk)
            note = _rate_note(done=done, total=total, fresh=generated, started=started)
            job_progress(job_id=job.pk, done=done, note=note)
    finally:
        chunks.close()  # aborts what the engine still holds if we stop early
    return {"generated": generated, "already_present": total - len(missing), "total": total}


def _rate_note(*, done: int, total: int, fresh: int, started: dt.datetime) -> str:
    seconds = max((timezone.now() - started).total_seconds(), 1e-6)
    return f"{done}/{total} samples, {fresh / seconds * 60:.0f} per minute"
