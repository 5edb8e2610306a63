"""Writes for pipelines: start one, advance its state machine, resume it, and keep it moving.

The pipeline's own job (kind "pipeline", default queue) never waits for another job: each
run of it advances the state machine as far as it can, queues the next step's jobs and
parks itself (back to queued) until one of them finishes. It is woken by the job hook in
evalhub.jobs.tasks when a step job ends, and by the periodic `pipelines_tick`, which also
re-sends step jobs whose message a broker restart lost. So a worker slot is never held
while waiting, and a crash or restart anywhere loses nothing: the next advance starts
again from what the database says."""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from evalhub.importing import InputError, RowProblem
from evalhub.jobs.models import Job
from evalhub.jobs.services import job_cancel, job_create, job_dispatch, job_progress
from evalhub.outputs.models import ModelEntry, Output
from evalhub.pipeline.models import Pipeline, PipelineStep
from evalhub.pipeline.steps import ORDER, STEPS, PipelineFailed, run_slug, study_slugs
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Study
from evalhub.teams.models import Team
from evalhub.teams.services import team_default
from training.models import Recipe, TrainingDataset, TrainingRun

log = logging.getLogger(__name__)

# Queued jobs of a running pipeline older than this are sent again by the tick (a broker
# restart loses messages; a duplicate is harmless because jobs are claimed atomically).
REDISPATCH_AFTER = dt.timedelta(
    seconds=float(os.environ.get("EVALHUB_PIPELINE_REDISPATCH_SECONDS", "120"))
)
STEP_TITLES = dict(Pipeline.Step.choices)


@dataclass(frozen=True)
class PipelineJudges:
    """The three judges a pipeline uses: LIMA pairwise, Fail/Pass/Excellent, and the Likert
    judge that scores checkpoints on the dev set."""

    pairwise: Judge
    absolute: Judge
    likert: Judge

    def slugs(self) -> dict[str, str]:
        return {"pairwise": self.pairwise.slug, "absolute": self.absolute.slug,
                "likert": self.likert.slug}  # fmt: skip


TEMPLATES = {
    "pairwise": Judge.Template.LIMA_PAIRWISE,
    "absolute": Judge.Template.FAIL_PASS_EXCELLENT,
    "likert": Judge.Template.LIMA_LIKERT,
}


def pipeline_judges_register(
    *,
    team: Team | None,
    slug: str,
    model: str,
    base_url: str,
    api_key_env: str = "",
    params: dict[str, Any] | None = None,
    verdict_mode: str = Judge.VerdictMode.GUIDED_CHOICE,
) -> PipelineJudges:
    """Register (or find) `<slug>-pairwise`, `<slug>-absolute` and `<slug>-likert`: one
    model at one OpenAI-compatible endpoint with each of the three LIMA instruments."""
    from generation.judging.services import judge_register

    made = {
        key: judge_register(
            team=team,
            slug=f"{slug}-{key}"[:100],
            name=f"{model} ({Judge.Template(template).label})",
            model=model,
            base_url=base_url,
            template=template,
            api_key_env=api_key_env,
            params=params,
            verdict_mode=verdict_mode,
        )
        for key, template in TEMPLATES.items()
    }
    return PipelineJudges(**made)


def pipeline_judges_from(*, judge: Judge) -> PipelineJudges:
    """The three judges for an existing one: itself for its own instrument, and siblings
    with the same model, endpoint and params for the other two."""
    siblings = pipeline_judges_register(
        team=judge.team, slug=judge.slug, model=judge.model, base_url=judge.base_url,
        api_key_env=judge.api_key_env, params=judge.params, verdict_mode=judge.verdict_mode,
    )  # fmt: skip
    chosen = {key: getattr(siblings, key) for key in TEMPLATES}
    for key, template in TEMPLATES.items():
        if judge.template == template:
            chosen[key] = judge
    return PipelineJudges(**chosen)


def _start_problems(
    *, team: Team, slug: str, test_prompt_set: PromptSet, dev_prompt_set: PromptSet,
    baselines: list[ModelEntry], judges: PipelineJudges,
) -> list[RowProblem]:  # fmt: skip
    problems = []
    studies = [f"{slug}-pairwise", f"{slug}-absolute"]
    taken = [
        (Pipeline.objects.filter(team=team, slug=slug).exists(), f"pipeline {slug!r} exists",
         "slug"),
        (TrainingRun.objects.filter(team=team, slug=f"{slug}-run").exists(),
         f"run {slug}-run exists", "slug"),
        (Study.objects.filter(team=team, slug__in=studies).exists(),
         f"a study {slug}-pairwise or {slug}-absolute exists", "slug"),
    ]  # fmt: skip
    problems += [RowProblem(0, message, name) for bad, message, name in taken if bad]
    prompts = test_prompt_set.prompts.count()
    if not prompts:
        problems.append(RowProblem(0, f"{test_prompt_set.slug} is empty", "test_prompt_set"))
    if not dev_prompt_set.prompts.exists():
        problems.append(RowProblem(0, f"{dev_prompt_set.slug} is empty", "dev_prompt_set"))
    if not baselines:
        problems.append(RowProblem(0, "name at least one baseline", "baselines"))
    for model in baselines:
        if model.kind == ModelEntry.Kind.LOCAL:
            continue
        have = Output.objects.filter(prompt__prompt_set=test_prompt_set, model=model)
        have = have.values("prompt_id").distinct().count()
        if have < prompts:
            problems.append(RowProblem(
                0, f"{model.slug} is not a local model and has outputs for {have} of the "
                f"{prompts} prompts of {test_prompt_set.slug}; submit them first", "baselines",
            ))  # fmt: skip
    for key, template in TEMPLATES.items():
        judge = getattr(judges, key)
        if judge.template != template:
            problems.append(RowProblem(0, f"{judge.slug} is not a {template} judge", key))
    return problems


@transaction.atomic
def pipeline_start(
    *,
    team: Team,
    slug: str,
    dataset: TrainingDataset,
    base_model: str,
    test_prompt_set: PromptSet,
    dev_prompt_set: PromptSet,
    baselines: list[ModelEntry],
    judges: PipelineJudges,
    recipe: Recipe | None = None,
    recipe_overrides: dict[str, Any] | None = None,
    generation_overrides: dict[str, Any] | None = None,
    judge_budget_usd: Decimal | str | None = None,
    simulate_crowd: bool = False,
    name: str = "",
    requested_by: Any = None,
) -> Pipeline:
    """Record a pipeline and queue its job. Baselines that are local models are generated
    on the test set; others must already have an output for every test prompt.
    `simulate_crowd` (demo only) adds clearly labelled simulated human verdicts.
    Raises InputError naming every problem (nothing is written)."""
    problems = _start_problems(
        team=team, slug=slug, test_prompt_set=test_prompt_set, dev_prompt_set=dev_prompt_set,
        baselines=baselines, judges=judges,
    )  # fmt: skip
    if not base_model.strip():
        problems.append(RowProblem(0, "must name a path or hub model", "base_model"))
    if problems:
        raise InputError(problems, source=f"pipeline {slug}")
    params = {
        "dataset": dataset.slug,
        "base_model": base_model.strip(),
        "recipe": recipe.slug if recipe else "",
        "recipe_overrides": recipe_overrides or {},
        "test_prompt_set": test_prompt_set.slug,
        "dev_prompt_set": dev_prompt_set.slug,
        "baselines": sorted(m.slug for m in baselines),
        "local_baselines": sorted(m.slug for m in baselines if m.kind == ModelEntry.Kind.LOCAL),
        "judges": judges.slugs(),
        "generation_overrides": generation_overrides or {},
        "judge_budget_usd": str(judge_budget_usd) if judge_budget_usd is not None else None,
        "simulate_crowd": simulate_crowd,
    }
    pipeline = Pipeline.objects.create(
        team=team, slug=slug, name=name or slug, params=params, created_by=requested_by
    )
    pipeline.job = job_create(
        kind=Job.Kind.PIPELINE, params={"pipeline": slug}, requested_by=requested_by, team=team
    )
    pipeline.save(update_fields=["job"])
    return pipeline


@transaction.atomic
def dev_set_from_test(*, test_prompt_set: PromptSet, slug: str, size: int) -> PromptSet:
    """A dev set made of the first `size` test prompts, for when none is given. LIMA kept
    its 50 dev prompts apart from the test set; this shortcut is for demos and smoke runs."""
    from evalhub.prompts.services import prompts_import

    team = test_prompt_set.team
    existing = PromptSet.objects.filter(slug=slug, team=team).first()
    if existing is not None:
        return existing
    prompts = test_prompt_set.prompts.order_by("position", "id")[: max(1, size)]
    rows = [
        (n, {"id": p.external_id, "text": p.text, "category": p.category, "context": p.context})
        for n, p in enumerate(prompts, start=1)
    ]
    name = f"Dev set: first {len(rows)} prompts of {test_prompt_set.slug}"
    return prompts_import(team=team, slug=slug, rows=rows, name=name).prompt_set


# --- the state machine --------------------------------------------------------------------


@dataclass(frozen=True)
class AdvanceOutcome:
    pipeline: Pipeline
    waiting: list[int]  # ids of the jobs the current step waits for


@transaction.atomic
def pipeline_advance(*, pipeline_id: int) -> AdvanceOutcome:
    """Run steps until one has to wait for jobs (queued here, dispatched on commit), the
    pipeline is done, or a step fails (the pipeline is marked failed with the error).
    Holds the pipeline's row lock, so two advances never interleave."""
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline_id)
    while not pipeline.is_finished:
        if pipeline.step == Pipeline.Step.DONE:
            _finish(pipeline, Pipeline.Status.SUCCEEDED)
            break
        try:
            with transaction.atomic():  # a failing step leaves nothing half-written
                outcome = STEPS[pipeline.step](pipeline)
        except (PipelineFailed, InputError, ValueError) as exc:
            pipeline.error = f"step {pipeline.step} ({STEP_TITLES[pipeline.step]}): {exc}"
            _finish(pipeline, Pipeline.Status.FAILED)
            break
        if not outcome.advance:
            return AdvanceOutcome(pipeline, [job.pk for job in outcome.waiting])
        pipeline.step = ORDER[ORDER.index(pipeline.step) + 1]
        pipeline.save(update_fields=["step"])
        log.info("pipeline %s: step %s", pipeline.slug, pipeline.step)
    return AdvanceOutcome(pipeline, [])


def _finish(pipeline: Pipeline, status: str) -> None:
    from evalhub.pipeline.selectors import pipeline_links

    pipeline.status = status
    pipeline.finished_at = timezone.now()
    if status == Pipeline.Status.SUCCEEDED:
        pipeline.result = {"links": pipeline_links(pipeline)}
    pipeline.save(update_fields=["status", "finished_at", "result", "error"])


def pipeline_job_run(job: Job) -> dict[str, Any] | None:
    """The "pipeline" job handler: advance, then either return the result (done), raise
    (failed), or park the job back in the queued state until a step job finishes."""
    pipeline = Pipeline.objects.get(job=job)
    outcome = pipeline_advance(pipeline_id=pipeline.pk)
    pipeline = outcome.pipeline
    if pipeline.status == Pipeline.Status.SUCCEEDED:
        job_progress(job_id=job.pk, done=len(STEPS), total=len(STEPS), note="done")
        return {"pipeline": pipeline.slug, **pipeline.result}
    if pipeline.is_finished:
        raise PipelineFailed(pipeline.error or f"pipeline {pipeline.slug} {pipeline.status}")
    index = ORDER.index(pipeline.step)
    note = (
        f"step {index + 1}/{len(STEPS)}: {STEP_TITLES[pipeline.step]}; waiting for job(s) "
        + ", ".join(map(str, outcome.waiting))
    )
    job_progress(job_id=job.pk, done=index, total=len(STEPS), note=note)
    # Park: the worker slot is free again; the task's job_succeed finds no running row.
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED, attempts=0
    )
    if (
        outcome.waiting
        and Job.objects.filter(pk__in=outcome.waiting)
        .exclude(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .exists()
    ):
        job_dispatch(job_id=job.pk)  # a step job ended while we looked: go round again
    return None


def pipeline_nudge_after(*, job_id: int) -> None:
    """Wake the pipelines waiting on `job_id` (called when any job finishes). Never raises:
    the periodic tick catches up with whatever this could not do."""
    try:
        waiting = PipelineStep.objects.filter(
            job_id=job_id, pipeline__status=Pipeline.Status.RUNNING
        ).values_list("pipeline__job_id", flat=True)
        for pipeline_job_id in set(waiting):
            if Job.objects.filter(pk=pipeline_job_id, status=Job.Status.QUEUED).exists():
                job_dispatch(job_id=pipeline_job_id)
    except Exception:
        log.exception("could not wake the pipelines waiting on job %s", job_id)


def pipelines_tick(*, now: dt.datetime | None = None) -> list[str]:
    """The periodic task: for every running pipeline, stop it if its job was cancelled,
    else send its parked job again and, at most every REDISPATCH_AFTER, re-send the queued
    jobs it started (their messages may be gone). Returns the slugs it touched."""
    now = now or timezone.now()
    touched = []
    for pipeline in Pipeline.objects.filter(status=Pipeline.Status.RUNNING).select_related("job"):
        job = pipeline.job
        if job is None or job.status == Job.Status.CANCELLED:
            pipeline_cancel(pipeline=pipeline, reason="its job was cancelled or deleted")
            continue
        if job.status == Job.Status.FAILED:  # the advance itself broke (e.g. the database)
            Pipeline.objects.filter(pk=pipeline.pk).update(
                status=Pipeline.Status.FAILED, error=job.error[:5000], finished_at=now
            )
            continue
        touched.append(pipeline.slug)
        if job.status == Job.Status.QUEUED:
            job_dispatch(job_id=job.pk)
        if pipeline.last_redispatch_at and now - pipeline.last_redispatch_at < REDISPATCH_AFTER:
            continue
        stuck = Job.objects.filter(
            status=Job.Status.QUEUED,
            created_at__gte=pipeline.created_at,
            created_at__lt=now - REDISPATCH_AFTER,
        ).exclude(kind=Job.Kind.PIPELINE)
        for stuck_id in stuck.values_list("id", flat=True):
            job_dispatch(job_id=stuck_id)
        Pipeline.objects.filter(pk=pipeline.pk).update(last_redispatch_at=now)
    return touched


@transaction.atomic
def pipeline_cancel(*, pipeline: Pipeline, reason: str = "cancelled") -> Pipeline:
    """Stop a pipeline: its own job and the step jobs still queued or running."""
    active = PipelineStep.objects.filter(
        pipeline=pipeline, job__status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).values_list("job_id", flat=True)
    for job_id in [*active, pipeline.job_id]:
        if job_id:
            job_cancel(job_id=job_id)
    pipeline.error = reason
    _finish(pipeline, Pipeline.Status.CANCELLED)
    return pipeline


@transaction.atomic
def pipeline_resume(*, pipeline: Pipeline, requested_by: Any = None) -> Pipeline:
    """Go on with a failed or cancelled pipeline from the step it stopped at: its failed
    step jobs get fresh retries (their handlers resume) and a new pipeline job is queued.
    A running pipeline is only woken."""
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if pipeline.status == Pipeline.Status.SUCCEEDED:
        return pipeline
    if pipeline.status == Pipeline.Status.RUNNING and pipeline.job_id:
        transaction.on_commit(lambda: job_dispatch(job_id=pipeline.job_id))
        return pipeline
    PipelineStep.objects.filter(pipeline=pipeline).update(retries=0)
    cancelled = Job.objects.filter(
        pipeline_steps__pipeline=pipeline, status=Job.Status.CANCELLED
    ).values_list("id", flat=True)
    for job_id in list(cancelled):
        Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).update(
            status=Job.Status.QUEUED, cancel_requested=False, finished_at=None, attempts=0
        )
        transaction.on_commit(lambda job_id=job_id: job_dispatch(job_id=job_id))
    pipeline.status, pipeline.error, pipeline.finished_at = Pipeline.Status.RUNNING, "", None
    pipeline.job = job_create(
        kind=Job.Kind.PIPELINE,
        params={"pipeline": pipeline.slug},
        requested_by=requested_by,
        team=pipeline.team or team_default(),
    )
    pipeline.save(update_fields=["status", "error", "finished_at", "job"])
    return pipeline


__all__ = [
    "PipelineJudges",
    "dev_set_from_test",
    "pipeline_advance",
    "pipeline_cancel",
    "pipeline_job_run",
    "pipeline_judges_from",
    "pipeline_judges_register",
    "pipeline_nudge_after",
    "pipeline_resume",
    "pipeline_start",
    "pipelines_tick",
    "run_slug",
    "study_slugs",
]
