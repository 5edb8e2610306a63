"""Thin periodic task: keep running pipelines moving (see services.pipelines_tick)."""

from celery import shared_task

from evalhub.pipeline.services import pipelines_tick


@shared_task(name="pipeline.tick")
def pipeline_tick() -> list[str]:
    return pipelines_tick()
