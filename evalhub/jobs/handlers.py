"""Which code runs each kind of job, and on which queue.

Handlers are named by dotted path so the web process never imports the heavy ones
(vLLM, torch). A handler takes the Job and returns a JSON-able result dict; it must be
idempotent: a re-dispatched job runs it again from the top and it resumes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

from evalhub.queues import CeleryQueue

JOB_HANDLERS: dict[str, tuple[str, CeleryQueue]] = {
    "import": ("evalhub.outputs.services.outputs_import_job", CeleryQueue.DEFAULT),
    "generation": ("generation.services.generation_job_run", CeleryQueue.GENERATION),
    "judge": ("generation.judging.services.judge_job_run", CeleryQueue.JUDGE),
    "training": ("training.services.training_job_run", CeleryQueue.TRAINING),
    "pipeline": ("evalhub.pipeline.pipeline_job_run", CeleryQueue.DEFAULT),
    "release": ("evalhub.releases.services.release_build_job", CeleryQueue.DEFAULT),
    "release_import": ("evalhub.releases.importing.release_import_job", CeleryQueue.DEFAULT),
    "fit": ("evalhub.fits.services.shared_fit_job_run", CeleryQueue.DEFAULT),
}


def queue_for(kind: str) -> str:
    return JOB_HANDLERS[kind][1].value


def handler_for(kind: str) -> Callable[[Any], dict[str, Any] | None]:
    return import_string(JOB_HANDLERS[kind][0])
