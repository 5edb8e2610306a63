"""Checkpoint selection on a dev set: what LIMA did by hand, as a job.

For each saved checkpoint of a run, generate the dev prompts (one sample each) on the
generation workers, then judge in the mode the judge's scale gives:
- Likert: the checkpoint's outputs go in a Likert study of their own, the judge rates them
  and the checkpoint's score is the mean rating.
- pairwise: each checkpoint after the first is compared with the one before it in a pairwise
  study of its own (the judge sees both orders); the score is the chain of log-odds
  (evalhub.stats.chain), 0 for the first checkpoint.
The best score is proposed (ties go to the earlier epoch); a researcher accepts it or picks
another, and the chosen one can enter a study as its target model."""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count

from evalhub.importing import InputError
from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create, job_progress
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.stats.chain import chain_best, chain_scores
from evalhub.studies.models import Judge, Judgment, Study
from evalhub.teams.models import Team
from training.models import Checkpoint, TrainingRun

POLL_SECONDS = 2.0
LIKERT = "likert"
PAIRWISE = "pairwise"
# Checkpoint.dev_score_detail["scale"] for each mode: what the run page labels the score.
LIKERT_SCALE = "1-6"
PAIRWISE_SCALE = "pairwise-vs-previous"


class SelectionError(RuntimeError):
    """A generation or judge job that selection waited on did not succeed."""


def selection_mode(judge: Judge) -> str:
    """The selection mode the judge's instrument scale gives: "likert" or "pairwise". Raises
    InputError naming `judge` for one that cannot select (Fail / Pass / Excellent, or a broken
    config)."""
    from generation.judging.config import JudgeConfigError, judge_config

    try:
        scale = judge_config(judge).instrument.scale
    except JudgeConfigError as exc:
        raise InputError.single(0, f"judge {judge.slug}: {exc}", "judge") from exc
    if scale not in (LIKERT, PAIRWISE):
        raise InputError.single(
            0,
            f"judge {judge.slug} gives {scale} verdicts; selection needs a Likert judge or a "
            "pairwise judge (compared with the previous checkpoint)",
            "judge",
        )
    return scale


@transaction.atomic
def checkpoint_selection_start(
    *,
    run: TrainingRun,
    prompt_set: PromptSet,
    judge: Judge,
    generation_overrides: dict[str, Any] | None = None,
    requested_by: Any = None,
) -> Job:
    """Queue the selection job for `run`'s checkpoints on `prompt_set` with `judge` (a Likert
    judge, or a pairwise one to compare each checkpoint with the previous one).
    `generation_overrides` change LIMA's decoding for the dev outputs (e.g. max_tokens)."""
    mode = selection_mode(judge)
    checkpoints = run.checkpoints.count()
    if not checkpoints:
        raise InputError.single(0, f"run {run.slug} has no checkpoint yet", "run")
    if mode == PAIRWISE and checkpoints < 2:
        raise InputError.single(
            0, f"run {run.slug} has one checkpoint; a pairwise judge needs two to compare", "run"
        )
    if not prompt_set.prompts.exists():
        raise InputError.single(0, f"prompt set {prompt_set.slug} is empty", "prompt_set")
    job = job_create(
        kind=Job.Kind.TRAINING,
        params={
            "action": "select",
            "run_id": run.pk,
            "mode": mode,
            "generation_overrides": generation_overrides or {},
        },
        requested_by=requested_by,
        team=run.team,
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


def _dev_study(
    slug: str, *, team: Team, name: str, kind: str, prompt_set: PromptSet, target: ModelEntry,
    baseline: ModelEntry | None = None,
) -> Study:  # fmt: skip
    """A study of dev outputs, launched once. A study left under the slug by a selection on
    other outputs is refused rather than judged again as if it were this one."""
    from evalhub.studies.services import study_launch

    study, _ = Study.objects.get_or_create(
        team=team,
        slug=slug[:100],
        defaults={
            "name": name[:200],
            "kind": kind,
            "prompt_set": prompt_set,
            "target_model": target,
            "raters_per_item": 1,
            "attention_check_rate": 0.0,
        },
    )
    baselines = [baseline.pk] if baseline is not None else []
    if study.status == Study.Status.DRAFT and baselines:
        study.baselines.set(baselines)
    found = (study.kind, study.prompt_set_id, study.target_model_id)
    if found != (kind, prompt_set.pk, target.pk) or (
        baselines and sorted(study.baselines.values_list("pk", flat=True)) != baselines
    ):
        raise SelectionError(
            f"study {study.slug} already exists for other outputs than this selection's "
            f"({study.kind} on {study.prompt_set.slug}, target {study.target_model.slug}); "
            "rename or delete it to select again"
        )
    if study.status == Study.Status.DRAFT:
        study = study_launch(study=study)
    return study


def _likert_study(run: TrainingRun, checkpoint: Checkpoint) -> Study:
    """The Likert study of one checkpoint's dev outputs."""
    return _dev_study(
        team=run.team,
        slug=f"{run.slug}-dev-epoch-{checkpoint.epoch:02d}",
        name=f"{run.name}: dev set, epoch {checkpoint.epoch}",
        kind=Study.Kind.LIKERT,
        prompt_set=run.dev_prompt_set,
        target=checkpoint.model,
    )


def pair_study(run: TrainingRun, previous: Checkpoint, checkpoint: Checkpoint) -> Study:
    """The pairwise study of `checkpoint`'s dev outputs (target) against `previous`'s."""
    return _dev_study(
        team=run.team,
        slug=f"{run.slug}-dev-epoch-{checkpoint.epoch:02d}-vs-{previous.epoch:02d}",
        name=f"{run.name}: dev set, epoch {checkpoint.epoch} vs {previous.epoch}",
        kind=Study.Kind.PAIRWISE,
        prompt_set=run.dev_prompt_set,
        target=checkpoint.model,
        baseline=previous.model,
    )


def _parse_states(judge: Judge, study: Study) -> dict[str, int]:
    states = Judgment.objects.filter(judge=judge, item__study=study).values_list("parse_state")
    return dict(states.annotate(n=Count("id")).values_list("parse_state", "n"))


def checkpoint_dev_score(*, checkpoint: Checkpoint, judge: Judge, study: Study) -> Checkpoint:
    """Store the checkpoint's mean Likert score from the judge's parsed verdicts."""
    scores = Judgment.objects.filter(
        judge=judge, item__study=study, parse_state=Judgment.ParseState.OK, score__isnull=False
    ).aggregate(mean=Avg("score"), n=Count("id"))
    checkpoint.dev_score = scores["mean"]
    checkpoint.dev_score_n = scores["n"]
    checkpoint.dev_score_detail = {
        "study": study.slug,
        "judge": judge.slug,
        "scale": LIKERT_SCALE,
        "parse_states": _parse_states(judge, study),
    }
    checkpoint.save(update_fields=["dev_score", "dev_score_n", "dev_score_detail"])
    return checkpoint


def pair_verdict_counts(*, judge: Judge, study: Study) -> dict[str, Any]:
    """Wins / ties / losses of the study's target against its baseline by `judge`, counted as
    the dashboards count them: per item, the two orders' parsed verdicts combined under the
    study's inconsistent-pair policy (a swap-inconsistent pair is a tie by default)."""
    from generation.judging.selectors import judge_item_verdicts

    items = judge_item_verdicts(judge=judge, study=study)
    counted = Counter(verdict for item in items for verdict in item.verdicts)
    both = [item for item in items if item.consistent is not None]
    return {
        "wins": counted[Judgment.Verdict.TARGET],
        "ties": counted[Judgment.Verdict.TIE],
        "losses": counted[Judgment.Verdict.BASELINE],
        "swap_consistent": sum(1 for item in both if item.consistent),
        "both_orders": len(both),
        "policy": study.inconsistent_pair_policy or "tie",
    }


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def checkpoints_chain_score(
    *, checkpoints: list[Checkpoint], judge: Judge, studies: list[Study]
) -> list[Checkpoint]:
    """Store each checkpoint's chain score (evalhub.stats.chain) from the pairwise verdicts:
    `checkpoints` in epoch order, `studies[i - 1]` comparing checkpoint i with i - 1. The
    first scores 0 and n is the number of verdicts against the previous checkpoint. A
    comparison with no parsed verdict breaks the chain: no score from there on (and none for
    the first when it is the first comparison that has none)."""
    if len(studies) != len(checkpoints) - 1:
        raise ValueError("one pairwise study per checkpoint after the first")
    links = [pair_verdict_counts(judge=judge, study=study) for study in studies]
    chain = chain_scores(
        [link["wins"] for link in links],
        [link["ties"] for link in links],
        [link["losses"] for link in links],
    )
    # The first's 0 means something only against a second that got a verdict.
    placed = bool(links) and links[0]["wins"] + links[0]["ties"] + links[0]["losses"] > 0
    for i, checkpoint in enumerate(checkpoints):
        detail: dict[str, Any] = {"scale": PAIRWISE_SCALE, "judge": judge.slug}
        if i == 0:
            detail["reference"] = True
            checkpoint.dev_score_n = 0
        else:
            link, study = links[i - 1], studies[i - 1]
            detail.update(
                study=study.slug,
                previous_epoch=checkpoints[i - 1].epoch,
                **link,
                log_odds=_finite(chain.log_odds[i - 1]),
                log_odds_se=_finite(chain.standard_errors[i - 1]),
                smoothing=chain.smoothing,
                parse_states=_parse_states(judge, study),
            )
            checkpoint.dev_score_n = link["wins"] + link["ties"] + link["losses"]
        checkpoint.dev_score = _finite(chain.scores[i]) if placed else None
        checkpoint.dev_score_detail = detail
        checkpoint.save(update_fields=["dev_score", "dev_score_n", "dev_score_detail"])
    return checkpoints


def best_checkpoint(checkpoints: list[Checkpoint]) -> Checkpoint | None:
    """The highest dev score; a tie goes to the earlier epoch (less training)."""
    ordered = sorted(checkpoints, key=lambda c: c.epoch)
    scores = [math.nan if c.dev_score is None else c.dev_score for c in ordered]
    best = chain_best(scores)
    return None if best is None else ordered[best]


def _generate(job: Job, checkpoint: Checkpoint, prompt_set: PromptSet, *, done: int,
              total: int) -> None:  # fmt: skip
    """The checkpoint's dev outputs, unless an earlier attempt made them all."""
    from generation.services import generation_run_create

    model: ModelEntry = checkpoint.model
    have = Output.objects.filter(prompt__prompt_set=prompt_set, model=model).count()
    if have < prompt_set.prompts.count():
        created = generation_run_create(
            model=model,
            prompt_set=prompt_set,
            samples=1,
            overrides=job.params.get("generation_overrides") or None,
            team=job.team,
        )
        _wait(parent_id=job.pk, child=_as_job(created), done=done, total=total,
              note=f"generating the dev set with epoch {checkpoint.epoch}")  # fmt: skip


def _judge(job: Job, judge: Judge, study: Study, *, per_item: int, done: int, total: int,
           note: str) -> None:  # fmt: skip
    """Run the judge on `study` unless every verdict (`per_item` per item) is parsed."""
    from generation.judging.services import judge_run_create

    judged = Judgment.objects.filter(
        judge=judge, item__study=study, parse_state=Judgment.ParseState.OK
    ).count()
    if judged < per_item * study.items.filter(is_gold=False).count():
        child = judge_run_create(judge=judge, study=study)
        _wait(parent_id=job.pk, child=child, done=done, total=total, note=note)


def selection_job_run(*, job: Job, run: TrainingRun) -> dict[str, Any]:
    """Generate, judge and score every checkpoint, then propose the best. Resumable: outputs
    already generated, studies already launched and verdicts already given are reused."""
    prompt_set, judge = run.dev_prompt_set, run.judge
    if prompt_set is None or judge is None:
        raise ValueError(f"run {run.slug} has no dev prompt set or judge to select with")
    mode = selection_mode(judge)
    checkpoints = list(run.checkpoints.select_related("model").order_by("epoch"))
    total = 2 * len(checkpoints)
    pair_studies: list[Study] = []
    for n, checkpoint in enumerate(checkpoints):
        _generate(job, checkpoint, prompt_set, done=2 * n, total=total)
        if mode == LIKERT:
            study = _likert_study(run, checkpoint)
            _judge(job, judge, study, per_item=1, done=2 * n + 1, total=total,
                   note=f"judging epoch {checkpoint.epoch}")  # fmt: skip
            checkpoint_dev_score(checkpoint=checkpoint, judge=judge, study=study)
            note = f"scored epoch {checkpoint.epoch}"
        elif n == 0:
            note = f"generated the dev set with epoch {checkpoint.epoch}"
        else:
            previous = checkpoints[n - 1]
            study = pair_study(run, previous, checkpoint)
            # Both orders of every pair (the judge's position-bias guard).
            _judge(job, judge, study, per_item=2, done=2 * n + 1, total=total,
                   note=f"judging epoch {checkpoint.epoch} against {previous.epoch}")  # fmt: skip
            pair_studies.append(study)
            note = f"compared epoch {checkpoint.epoch} with {previous.epoch}"
        job_progress(job_id=job.pk, done=2 * n + 2, total=total, note=note)
    if mode == PAIRWISE:
        checkpoints_chain_score(checkpoints=checkpoints, judge=judge, studies=pair_studies)
    best = best_checkpoint(checkpoints)
    if best is None:
        details = {c.epoch: c.dev_score_detail.get("parse_states") for c in checkpoints}
        raise SelectionError(
            f"no checkpoint got a parsed judge verdict; verdicts by state: {details}"
        )
    TrainingRun.objects.filter(pk=run.pk).update(proposed_checkpoint=best)
    return {
        "mode": mode,
        "proposed_epoch": best.epoch,
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
    team: Team,
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
    if Study.objects.filter(team=team, slug=slug).exists():
        raise InputError.single(0, f"study {slug!r} already exists", "slug")
    if kind not in Study.Kind.values:
        raise InputError.single(0, f"unknown study kind {kind!r}", "kind")
    study = Study.objects.create(
        team=team,
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
