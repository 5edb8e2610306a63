"""The pipeline listens for finished jobs: a pipeline waiting on one goes on at once."""

from typing import Any

from django.dispatch import receiver

from evalhub.jobs.signals import job_finished
from evalhub.pipeline.services import pipeline_nudge_after


@receiver(job_finished, dispatch_uid="pipeline_nudge_after_job")
def nudge_pipelines(sender: Any, job_id: int, **kwargs: Any) -> None:
    pipeline_nudge_after(job_id=job_id)
