"""Checkpoint selection on a dev set: what LIMA did by hand, as a job.

For each saved checkpoint of a run: generate the dev prompts (one sample each) on the
generation workers, put the outputs in a Likert study of their own, have the Likert judge
rate them, and store the mean score. The checkpoint with the best mean is proposed (ties go
to the earlier epoch); a researcher accepts it or picks another, and the chosen one can
enter a study as its target model."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count

from evalhub.importing import InputError
from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create, job_progress
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Judgment, Study
from training.models import Checkpoint, TrainingRun

POLL_SECONDS = 2.0


class SelectionError(RuntimeError):
    """A generation or judge job that selection waited on did not succeed."""


@transaction.atomic
def checkpoint_selection_start(
    *,
    run: TrainingRun,
    prompt_set: PromptSet,
    judge: Judge,
    generation_overrides: dict[str, Any] | None = None,
    requested_by: Any = None,
) -> Job:
    """Queue the selection job for `run`'s checkpoints on `prompt_set` with `judge`.
    `generation_overrides` change LIMA's decoding for the dev outputs (e.g. max_tokens)."""
    if not run.checkpoints.exists():
        raise InputError.single(0, f"run {run.slug} has no checkpoint yet", "run")
    if not prompt_set.prompts.exists():
        raise InputError.single(0, f"prompt set {prompt_set.slug} is empty", "prompt_set")
    job = job_create(
        kind=Job.Kind.TRAINING,
        params={
            "action": "select",
            "run_id": run.pk,
            "generation_overrides": generation_overrides or {},
        },
        requested_by=requested_by,
    )
    run.dev_prompt_set = prompt_set
    run.judge = judge
    run.selection_job = job
    run.proposed_checkpoint = None
    run.save(update_fields=["dev_prompt_set", "judge", "selection_job", "proposed_checkpoint"])
    return job


def _wait(*, parent_id: int, child: Job, done: int, total: int, note: str) -> None:
    """Poll `child` until it finishes, heartbeating `parent` (which raises JobCancelled)."""
    while True:
        child.refresh_from_db(fields=["status", "error"])
        if child.status == Job.Status.SUCCEEDED:
            return
        if child.is_finished:
            raise SelectionError(f"{note}: job {child.pk} {child.status}: {child.error[:500]}")
        job_progress(job_id=parent_id, done=done, total=total, note=note)
        time.sleep(POLL_SECONDS)


def _as_job(created: Any) -> Job:
    return created if isinstance(created, Job) else created.job


def _dev_study(run: TrainingRun, checkpoint: Checkpoint) -> Study:
    """The Likert study of one checkpoint's dev outputs (launched once)."""
    from evalhub.studies.services import study_launch

    study, _ = Study.objects.get_or_create(
        slug=f"{run.slug}-dev-epoch-{checkpoint.epoch:02d}"[:100],
        defaults={
            "name": f"{run.name}: dev set, epoch {checkpoint.epoch}",
            "kind": Study.Kind.LIKERT,
            "prompt_set": run.dev_prompt_set,
            "target_model": checkpoint.model,
            "raters_per_item": 1,
            "attention_check_rate": 0.0,
        },
    )
    if study.status == Study.Status.DRAFT:
        study = study_launch(study=study)
    return study


def checkpoint_dev_score(*, checkpoint: Checkpoint, judge: Judge, study: Study) -> Checkpoint:
    """Store the checkpoint's mean Likert score from the judge's parsed verdicts."""
    scores = Judgment.objects.filter(
        judge=judge, item__study=study, parse_state=Judgment.ParseState.OK, score__isnull=False
    ).aggregate(mean=Avg("score"), n=Count("id"))
    checkpoint.dev_score = scores["mean"]
    checkpoint.dev_score_n = scores["n"]
    states = Judgment.objects.filter(judge=judge, item__study=study).values_list("parse_state")
    checkpoint.dev_score_detail = {
        "study": study.slug,
        "judge": judge.slug,
        "scale": "1-6",
        "parse_states": dict(states.annotate(n=Count("id")).values_list("parse_state", "n")),
    }
    checkpoint.save(update_fields=["dev_score", "dev_score_n", "dev_score_detail"])
    return checkpoint


def best_checkpoint(checkpoints: list[Checkpoint]) -> Checkpoint | None:
    """The highest mean dev score; a tie goes to the earlier epoch (less training)."""
    scored = [c for c in checkpoints if c.dev_score is not None]
    return max(scored, key=lambda c: (c.dev_score, -c.epoch), default=None)


def selection_job_run(*, job: Job, run: TrainingRun) -> dict[str, Any]:
    """Generate, judge and score every checkpoint, then propose the best. Resumable: outputs
    already generated, studies already launched and verdicts already given are reused."""
    from generation.judging.services import judge_run_create
    from generation.services import generation_run_create

    prompt_set, judge = run.dev_prompt_set, run.judge
    if prompt_set is None or judge is None:
        raise ValueError(f"run {run.slug} has no dev prompt set or judge to select with")
    checkpoints = list(run.checkpoints.select_related("model").order_by("epoch"))
    prompts = prompt_set.prompts.count()
    total = 2 * len(checkpoints)
    for n, checkpoint in enumerate(checkpoints):
        model: ModelEntry = checkpoint.model
        have = Output.objects.filter(prompt__prompt_set=prompt_set, model=model).count()
        if have < prompts:
            created = generation_run_create(
                model=model,
                prompt_set=prompt_set,
                samples=1,
                overrides=job.params.get("generation_overrides") or None,
            )
            _wait(parent_id=job.pk, child=_as_job(created), done=2 * n, total=total,
                  note=f"generating the dev set with epoch {checkpoint.epoch}")  # fmt: skip
        study = _dev_study(run, checkpoint)
        judged = Judgment.objects.filter(
            judge=judge, item__study=study, parse_state=Judgment.ParseState.OK
        ).count()
        if judged < study.items.filter(is_gold=False).count():
            _wait(parent_id=job.pk, child=judge_run_create(judge=judge, study=study),
                  done=2 * n + 1, total=total,
                  note=f"judging epoch {checkpoint.epoch}")  # fmt: skip
        checkpoint_dev_score(checkpoint=checkpoint, judge=judge, study=study)
        job_progress(
            job_id=job.pk, done=2 * n + 2, total=total, note=f"scored epoch {checkpoint.epoch}"
        )
    best = best_checkpoint(checkpoints)
    if best is None:
        details = {c.epoch: c.dev_score_detail.get("parse_states") for c in checkpoints}
        raise SelectionError(
            f"no checkpoint got a parsed judge score; verdicts by state: {details}"
        )
    TrainingRun.objects.filter(pk=run.pk).update(proposed_checkpoint=best)
    return {
        "proposed_epoch": best.epoch if best else None,
        "scores": {str(c.epoch): c.dev_score for c in checkpoints},
    }


def _own_checkpoint(run: TrainingRun, checkpoint: Checkpoint) -> None:
    if checkpoint.run_id != run.pk:
        raise InputError.single(
            0, f"checkpoint {checkpoint.pk} is not from run {run.slug}", "checkpoint"
        )


@transaction.atomic
def checkpoint_choose(*, run: TrainingRun, checkpoint: Checkpoint, by: Any = None) -> TrainingRun:
    """A researcher picks a checkpoint of the run (the proposal or another)."""
    _own_checkpoint(run, checkpoint)
    run.chosen_checkpoint = checkpoint
    run.chosen_by = by
    run.save(update_fields=["chosen_checkpoint", "chosen_by"])
    return run


def checkpoint_proposal_accept(*, run: TrainingRun, by: Any = None) -> TrainingRun:
    """Choose the proposed checkpoint. Raises InputError when nothing is proposed yet."""
    if run.proposed_checkpoint is None:
        raise InputError.single(0, f"run {run.slug} has no proposal yet", "proposed_checkpoint")
    return checkpoint_choose(run=run, checkpoint=run.proposed_checkpoint, by=by)


@transaction.atomic
def chosen_checkpoint_study_create(
    *,
    run: TrainingRun,
    slug: str,
    name: str,
    prompt_set: PromptSet,
    kind: str = Study.Kind.PAIRWISE,
    baselines: list[ModelEntry] | None = None,
    by: Any = None,
) -> Study:
    """A draft study whose target is the run's chosen checkpoint (launch it as usual)."""
    if run.chosen_checkpoint is None:
        raise InputError.single(0, f"run {run.slug} has no chosen checkpoint", "chosen_checkpoint")
    if Study.objects.filter(slug=slug).exists():
        raise InputError.single(0, f"study {slug!r} already exists", "slug")
    if kind not in Study.Kind.values:
        raise InputError.single(0, f"unknown study kind {kind!r}", "kind")
    study = Study.objects.create(
        slug=slug,
        name=name or slug,
        kind=kind,
        prompt_set=prompt_set,
        target_model=run.chosen_checkpoint.model,
        created_by=by,
    )
    if baselines:
        study.baselines.set(baselines)
    return study
