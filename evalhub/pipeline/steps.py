"""The pipeline's steps: each looks at what its earlier run left and either moves on, queues
the jobs it still needs, or reports the jobs it waits for.

Every step is idempotent: it finds its run, studies and jobs by name or by its
PipelineStep rows before it creates anything, so running it twice (a crash between two
advances, a duplicated message) creates nothing twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_dispatch
from evalhub.outputs.models import ModelEntry
from evalhub.pipeline.models import Pipeline, PipelineStep
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Study
from training.models import TrainingDataset, TrainingRun

# A failed step job is run again this many times (handlers resume) before the pipeline fails.
MAX_STEP_RETRIES = 2


class PipelineFailed(RuntimeError):
    """A step's job failed for good; the message names the step and the job."""


@dataclass
class StepOutcome:
    """`advance` is True when the step is complete; else `waiting` holds the jobs it needs."""

    advance: bool
    waiting: list[Job] = field(default_factory=list)


def _record(pipeline: Pipeline, step: str, job: Job) -> Job:
    PipelineStep.objects.get_or_create(pipeline=pipeline, job=job, defaults={"step": step})
    return job


def _settle(pipeline: Pipeline, job: Job, what: str) -> bool:
    """True when `job` succeeded; False while it is queued or running (or was just put back
    in its queue after a failure). Raises PipelineFailed when it failed for good."""
    job.refresh_from_db(fields=["status", "error"])
    if job.status == Job.Status.SUCCEEDED:
        return True
    if not job.is_finished:
        return False
    row = PipelineStep.objects.filter(pipeline=pipeline, job=job).first()
    if job.status == Job.Status.FAILED and row is not None and row.retries < MAX_STEP_RETRIES:
        # Handlers resume where they stopped, so running the same job again loses nothing.
        requeued = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED,
            finished_at=None,
            attempts=0,
            progress_note=f"retried by pipeline {pipeline.slug}: {job.error[:200]}",
        )
        if requeued:
            PipelineStep.objects.filter(pk=row.pk).update(retries=row.retries + 1)
            transaction.on_commit(lambda: job_dispatch(job_id=job.pk))
            return False
    raise PipelineFailed(f"{what}: job {job.pk} {job.status}: {job.error[:2000]}")


def _latest(pipeline: Pipeline, step: str, **params: Any) -> Job | None:
    rows = PipelineStep.objects.filter(pipeline=pipeline, step=step).select_related("job")
    for row in rows.order_by("-id"):
        if all(row.job.params.get(k) == v for k, v in params.items()):
            return row.job
    return None


# --- 1. fine-tune -------------------------------------------------------------------------


def step_train(pipeline: Pipeline) -> StepOutcome:
    from training.models import Recipe
    from training.services import training_run_create

    params = pipeline.params
    run = (
        pipeline.run
        or TrainingRun.objects.filter(team=pipeline.team, slug=run_slug(pipeline)).first()
    )
    if run is None:
        recipe_slug = params.get("recipe")
        run = training_run_create(
            team=pipeline.team,
            dataset=TrainingDataset.objects.get(team=pipeline.team, slug=params["dataset"]),
            base_model=params["base_model"],
            recipe=Recipe.objects.get(slug=recipe_slug) if recipe_slug else None,
            overrides=params.get("recipe_overrides") or None,
            slug=run_slug(pipeline),
            name=f"{pipeline.name}: fine-tune",
            requested_by=pipeline.created_by,
        )
    if pipeline.run_id != run.pk:
        pipeline.run = run
        pipeline.save(update_fields=["run"])
    job = _record(pipeline, Pipeline.Step.TRAIN, run.job)
    if _settle(pipeline, job, "fine-tuning"):
        return StepOutcome(advance=True)
    return StepOutcome(advance=False, waiting=[job])


def run_slug(pipeline: Pipeline) -> str:
    return f"{pipeline.slug}-run"


# --- 2. pick the checkpoint ---------------------------------------------------------------


def step_select(pipeline: Pipeline) -> StepOutcome:
    from training.services import checkpoint_proposal_accept, checkpoint_selection_start

    run = TrainingRun.objects.get(pk=pipeline.run_id)
    if run.chosen_checkpoint_id:
        return StepOutcome(advance=True)
    if run.selection_job_id is None:
        checkpoint_selection_start(
            run=run,
            prompt_set=PromptSet.objects.get(
                team=pipeline.team, slug=pipeline.params["dev_prompt_set"]
            ),
            judge=Judge.objects.get(team=pipeline.team, slug=pipeline.params["judges"]["likert"]),
            generation_overrides=pipeline.params.get("generation_overrides") or None,
            requested_by=pipeline.created_by,
        )
        run.refresh_from_db()
    job = _record(pipeline, Pipeline.Step.SELECT, run.selection_job)
    if not _settle(pipeline, job, "checkpoint selection"):
        return StepOutcome(advance=False, waiting=[job])
    # LIMA picked by hand; the pipeline accepts the proposal (a researcher can change it).
    checkpoint_proposal_accept(run=run, by=pipeline.created_by)
    return StepOutcome(advance=True)


# --- 3. generate the test outputs ---------------------------------------------------------


def generated_models(pipeline: Pipeline) -> list[ModelEntry]:
    """The chosen checkpoint's model, then the local baselines the pipeline generates."""
    run = TrainingRun.objects.select_related("chosen_checkpoint__model").get(pk=pipeline.run_id)
    local = list(
        ModelEntry.objects.filter(
            team=pipeline.team, slug__in=pipeline.params.get("local_baselines", [])
        )
    )
    return [run.chosen_checkpoint.model, *sorted(local, key=lambda m: m.slug)]


def step_generate(pipeline: Pipeline) -> StepOutcome:
    from generation.selectors import samples_missing
    from generation.services import generation_run_create

    test_set = PromptSet.objects.get(team=pipeline.team, slug=pipeline.params["test_prompt_set"])
    waiting: list[Job] = []
    for model in generated_models(pipeline):
        job = _latest(pipeline, Pipeline.Step.GENERATE, model=model.slug)
        missing = samples_missing(model=model, prompt_set=test_set, samples=1)
        if job is not None and not _settle(pipeline, job, f"generating with {model.slug}"):
            waiting.append(job)
        elif missing:
            job = generation_run_create(
                model=model,
                prompt_set=test_set,
                overrides=pipeline.params.get("generation_overrides") or None,
                requested_by=pipeline.created_by,
                team=pipeline.team,
            )
            waiting.append(_record(pipeline, Pipeline.Step.GENERATE, job))
    return StepOutcome(advance=not waiting, waiting=waiting)


# --- 4. create and launch the studies -----------------------------------------------------


def study_slugs(pipeline: Pipeline) -> dict[str, str]:
    return {"pairwise": f"{pipeline.slug}-pairwise", "absolute": f"{pipeline.slug}-absolute"}


def step_studies(pipeline: Pipeline) -> StepOutcome:
    from evalhub.studies.services import study_launch
    from training.services import chosen_checkpoint_study_create

    run = TrainingRun.objects.get(pk=pipeline.run_id)
    test_set = PromptSet.objects.get(team=pipeline.team, slug=pipeline.params["test_prompt_set"])
    baselines = list(
        ModelEntry.objects.filter(team=pipeline.team, slug__in=pipeline.params["baselines"])
    )
    slugs = study_slugs(pipeline)
    kinds = {"pairwise": Study.Kind.PAIRWISE, "absolute": Study.Kind.ABSOLUTE}
    studies: dict[str, Study] = {}
    for key, kind in kinds.items():
        study = Study.objects.filter(team=pipeline.team, slug=slugs[key]).first()
        if study is None:
            label = "pairwise" if key == "pairwise" else "Fail / Pass / Excellent"
            study = chosen_checkpoint_study_create(
                team=pipeline.team,
                run=run,
                slug=slugs[key],
                name=f"{pipeline.name}: {label}",
                prompt_set=test_set,
                kind=kind,
                baselines=baselines if kind == Study.Kind.PAIRWISE else None,
                by=pipeline.created_by,
            )
        if study.status == Study.Status.DRAFT:
            study = study_launch(study=study, by=pipeline.created_by)
        studies[key] = study
    pipeline.pairwise_study = studies["pairwise"]
    pipeline.absolute_study = studies["absolute"]
    pipeline.save(update_fields=["pairwise_study", "absolute_study"])
    if pipeline.params.get("simulate_crowd"):
        from evalhub.demo.crowd import simulated_crowd_import

        for study in studies.values():
            simulated_crowd_import(study=study)
    return StepOutcome(advance=True)


# --- 5. run the LLM judge -----------------------------------------------------------------


def step_judge(pipeline: Pipeline) -> StepOutcome:
    from generation.judging.selectors import judge_runs_active
    from generation.judging.services import JudgeRunConflict, judge_run_create

    judges = pipeline.params["judges"]
    pairs = [
        (Judge.objects.get(team=pipeline.team, slug=judges["pairwise"]), pipeline.pairwise_study),
        (Judge.objects.get(team=pipeline.team, slug=judges["absolute"]), pipeline.absolute_study),
    ]
    budget = pipeline.params.get("judge_budget_usd")
    waiting: list[Job] = []
    complete = True
    for judge, study in pairs:
        job = _latest(pipeline, Pipeline.Step.JUDGE, judge_id=judge.pk, study_id=study.pk)
        if job is None:
            try:
                job = judge_run_create(
                    judge=judge, study=study, requested_by=pipeline.created_by, budget_usd=budget
                )
            except JudgeRunConflict:  # someone already runs it: follow that job
                job = judge_runs_active(judge=judge, study=study).first()
            if job is None:  # it finished between the two queries; the next advance looks
                complete = False
                continue
            _record(pipeline, Pipeline.Step.JUDGE, job)
        if not _settle(pipeline, job, f"judge {judge.slug} on {study.slug}"):
            waiting.append(job)
    return StepOutcome(advance=complete and not waiting, waiting=waiting)


STEPS = {
    Pipeline.Step.TRAIN: step_train,
    Pipeline.Step.SELECT: step_select,
    Pipeline.Step.GENERATE: step_generate,
    Pipeline.Step.STUDIES: step_studies,
    Pipeline.Step.JUDGE: step_judge,
}
ORDER = [*STEPS, Pipeline.Step.DONE]
