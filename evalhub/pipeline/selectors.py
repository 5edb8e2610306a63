"""Reads for pipelines: where to look, and how far each step has got."""

from __future__ import annotations

from dataclasses import dataclass

from evalhub.jobs.models import Job
from evalhub.pipeline.models import Pipeline, PipelineStep

# A made-up participant, so a researcher can open the crowd form the way Prolific would.
PREVIEW_PARTICIPANT = "PREVIEW-RESEARCHER"


def pipeline_links(pipeline: Pipeline) -> dict[str, str]:
    """Site-relative paths of every page a pipeline fills, by what they show."""
    links = {"pipeline job": f"/jobs/{pipeline.job_id}/" if pipeline.job_id else ""}
    if pipeline.run_id:
        links["training run"] = f"/training/runs/{pipeline.run.slug}/"
    for label, study in (("pairwise", pipeline.pairwise_study),
                         ("fail/pass/excellent", pipeline.absolute_study)):  # fmt: skip
        if study is None:
            continue
        links[f"{label} dashboard"] = f"/dashboards/studies/{study.slug}/"
        links[f"{label} crowd link"] = (
            f"/s/{study.crowd_code}/?PROLIFIC_PID={PREVIEW_PARTICIPANT}"
            f"&STUDY_ID=preview&SESSION_ID=preview"
        )
        links[f"{label} author rating"] = f"/rate/{study.crowd_code}/"
        links[f"{label} API results"] = f"/api/v1/studies/{study.slug}/results/"
    links["leaderboard"] = "/dashboards/"
    links["API docs"] = "/api/docs/"
    return {k: v for k, v in links.items() if v}


@dataclass(frozen=True)
class StepJob:
    step: str
    job_id: int
    kind: str
    status: str
    done: int
    total: int
    note: str


def pipeline_step_jobs(pipeline: Pipeline) -> list[StepJob]:
    """The jobs the pipeline queued, oldest first, with their progress."""
    rows = PipelineStep.objects.filter(pipeline=pipeline).select_related("job").order_by("id")
    return [
        StepJob(
            r.step,
            r.job_id,
            r.job.kind,
            r.job.status,
            r.job.progress_done,
            r.job.progress_total,
            r.job.progress_note,
        )
        for r in rows
    ]


def pipeline_current_jobs(pipeline: Pipeline) -> list[Job]:
    """The current step's jobs that are queued or running."""
    return list(
        Job.objects.filter(
            pipeline_steps__pipeline=pipeline,
            pipeline_steps__step=pipeline.step,
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        ).order_by("id")
    )
