"""The whole LIMA pipeline as one resumable state machine: train, pick the checkpoint,
generate, launch the studies, judge, and say where to look.

This package imports no models at import time (the jobs registry names
`evalhub.pipeline.pipeline_job_run` before Django's apps are ready)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalhub.jobs.models import Job


def pipeline_job_run(job: Job) -> dict[str, Any] | None:
    """The "pipeline" job handler; see `evalhub.pipeline.services.pipeline_job_run`."""
    from evalhub.pipeline.services import pipeline_job_run as run

    return run(job)
