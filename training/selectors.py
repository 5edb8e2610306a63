"""Reads for the training pages: lists, a run's curves, its checkpoints and their scores.
Datasets and runs belong to a team: every list and lookup takes the team, so another
team's dataset or run is simply not found (a 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from evalhub.teams.models import Team
from evalhub.teams.scope import TeamScope
from training.models import Checkpoint, Recipe, TrainingDataset, TrainingRun


def team_datasets(*, team: Team) -> QuerySet[TrainingDataset]:
    return TrainingDataset.objects.filter(team=team)


def team_runs(*, team: Team) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.filter(team=team)


# The gates resolve a dataset's or a run's `slug` within the caller's team first.
DATASET_SCOPE = TeamScope(team_datasets, "dataset")
RUN_SCOPE = TeamScope(team_runs, "training run")


def datasets_list(*, team: Team) -> QuerySet[TrainingDataset]:
    return team_datasets(team=team).annotate(example_count=Count("examples")).order_by("slug")


def dataset_sources(*, dataset: TrainingDataset) -> list[dict[str, Any]]:
    """Example and multi-turn counts per source."""
    counts: dict[str, dict[str, Any]] = {}
    for source, turns in dataset.examples.values_list("source", "conversations"):
        row = counts.setdefault(source or "(none)", {"source": source or "(none)", "examples": 0,
                                                      "multi_turn": 0})  # fmt: skip
        row["examples"] += 1
        row["multi_turn"] += len(turns) > 2
    return sorted(counts.values(), key=lambda r: r["source"])


def recipes_list() -> QuerySet[Recipe]:
    return Recipe.objects.order_by("-is_preset", "slug")


def runs_list(*, team: Team) -> QuerySet[TrainingRun]:
    return team_runs(team=team).select_related("dataset", "recipe", "job").order_by("-created_at")


def run_get(*, team: Team, slug: str) -> TrainingRun:
    """The team's run; TrainingRun.DoesNotExist for another team's."""
    return team_runs(team=team).select_related(
        "dataset", "recipe", "job", "selection_job", "dev_prompt_set", "judge",
        "proposed_checkpoint", "chosen_checkpoint__model",
    ).get(slug=slug)  # fmt: skip


def run_checkpoints(*, run: TrainingRun) -> list[Checkpoint]:
    return list(run.checkpoints.select_related("model").order_by("epoch"))


def run_curves(*, run: TrainingRun, after_step: int = 0) -> dict[str, list[Any]]:
    """Columns of the per-step metrics after `after_step`, for the live plots."""
    names = ["step", "epoch", "loss", "lr", "tokens_per_s", "eta_s", "elapsed_s"]
    rows = run.steps.filter(step__gt=after_step).order_by("step").values_list(*names)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for row in rows:
        for name, value in zip(names, row, strict=True):
            columns[name].append(value)
    return columns


def run_status(*, run: TrainingRun) -> dict[str, Any]:
    """The job states the live page shows beside the curves. `run` freshly read, with its
    training and selection jobs."""

    def job_state(job: Any) -> dict[str, Any] | None:
        if job is None:
            return None
        return {
            "id": job.pk,
            "status": job.status,
            "label": job.get_status_display(),
            "cancel_requested": job.cancel_requested,
            "done": job.progress_done,
            "total": job.progress_total,
            "note": job.progress_note,
            "error": job.error[:2000],
            "finished": job.is_finished,
        }

    checkpoints = run_checkpoints(run=run)
    return {
        "training": job_state(run.job),
        "selection": job_state(run.selection_job),
        "checkpoints": [
            {"epoch": c.epoch, "model": c.model.slug, "dev_score": c.dev_score, "n": c.dev_score_n}
            for c in checkpoints
        ],
        "panel": run_panel_state(run=run, checkpoints=checkpoints),
    }


def run_panel_state(*, run: TrainingRun, checkpoints: list[Checkpoint]) -> dict[str, Any]:
    """What the checkpoints panel shows, compactly: the live page redraws the panel when
    this changes (a checkpoint saved or scored, a proposal, a choice, a selection state).
    `run` freshly read, with its selection job; `checkpoints` from run_checkpoints."""
    job = run.selection_job
    return {
        "checkpoints": [[c.pk, c.dev_score, c.dev_score_n] for c in checkpoints],
        "proposed": run.proposed_checkpoint_id,
        "chosen": run.chosen_checkpoint_id,
        "selection": [job.pk, job.status, bool(job.error)] if job else None,
    }
