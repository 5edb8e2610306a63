"""Training runs: create (recipe frozen onto the run), run as a job, cancel, and register
each saved checkpoint as a local model.

On one device the worker process trains in-process. With more than one GPU it runs
`accelerate launch` with the FSDP config in training/fsdp.yaml (training/launch.py), and the
main rank of that launch reports to the database like the in-process trainer does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from evalhub.importing import InputError
from evalhub.jobs.models import Job
from evalhub.jobs.services import JobCancelled, job_cancel, job_create, job_progress
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.services import model_register
from evalhub.teams.models import Team
from training.models import Checkpoint, Recipe, TrainingDataset, TrainingRun, TrainingStep
from training.recipes import RecipeSettings

ROOT = Path(__file__).resolve().parent.parent.parent
FSDP_CONFIG = Path(__file__).resolve().parent.parent / "fsdp.yaml"
CANCELLED_EXIT_CODE = 75  # the launched trainer's exit status when the job was cancelled


def runs_dir() -> Path:
    """Where runs write checkpoints: $EVALHUB_TRAINING_DIR, else var/training-runs."""
    return Path(os.environ.get("EVALHUB_TRAINING_DIR") or settings.VAR_DIR / "training-runs")


@transaction.atomic
def training_run_create(
    *,
    team: Team,
    dataset: TrainingDataset,
    base_model: str,
    recipe: Recipe | None = None,
    overrides: dict[str, Any] | None = None,
    slug: str = "",
    name: str = "",
    output_dir: str | Path | None = None,
    requested_by: Any = None,
) -> TrainingRun:
    """Freeze the recipe (plus `overrides`) onto a new run and queue its training job.
    Raises InputError naming a bad setting, an empty dataset or a taken slug."""
    if not base_model.strip():
        raise InputError.single(0, "must name a path or hub model", "base_model")
    if dataset.team_id is not None and dataset.team_id != team.pk:
        # Another team's dataset is not found, as one that does not exist.
        raise InputError.single(0, f"no dataset {dataset.slug!r} in {team.name}", "dataset")
    if not dataset.examples.exists():
        raise InputError.single(0, f"dataset {dataset.slug} has no examples", "dataset")
    base = recipe.settings if recipe else {}
    frozen = RecipeSettings.from_dict({**base, **(overrides or {})})
    slug = slug or slugify(name or f"{dataset.slug}-{recipe.slug if recipe else 'custom'}")[:80]
    if TrainingRun.objects.filter(team=team, slug=slug).exists():
        raise InputError.single(0, f"run {slug!r} already exists", "slug")
    run = TrainingRun.objects.create(
        team=team,
        slug=slug,
        name=name or slug,
        dataset=dataset,
        base_model=base_model.strip(),
        recipe=recipe,
        recipe_settings=frozen.to_dict(),
        # Per team: another team may have a run of the same slug.
        output_dir=str(Path(output_dir) if output_dir else runs_dir() / team.slug / slug),
        created_by=requested_by,
    )
    run.job = job_create(
        kind=Job.Kind.TRAINING,
        params={"action": "train", "run_id": run.pk},
        requested_by=requested_by,
        team=team,
    )
    run.save(update_fields=["job"])
    return run


def training_run_cancel(*, run: TrainingRun) -> None:
    """Stop the run's training (at its next step) or its checkpoint selection."""
    for job_id in (run.job_id, run.selection_job_id):
        if job_id:
            job_cancel(job_id=job_id)


def training_job_run(job: Job) -> dict[str, Any]:
    """Job handler for kind "training": params {"action": "train" | "select", "run_id"}."""
    action = job.params.get("action", "train")
    run = TrainingRun.objects.select_related("dataset").get(pk=job.params["run_id"])
    if action == "select":
        from training.services.selection import selection_job_run

        return selection_job_run(job=job, run=run)
    if action != "train":
        raise ValueError(f"unknown training action {action!r}")
    return _train(job=job, run=run)


def checkpoint_register(*, run: TrainingRun, epoch: int, step: int, path: str | Path) -> Checkpoint:
    """Register a saved epoch as a local model (idempotent: a resumed run re-registers)."""
    existing = Checkpoint.objects.filter(run=run, epoch=epoch).first()
    if existing:
        return existing
    model = model_register(
        team=run.team,
        slug=f"{run.slug}-epoch-{epoch:02d}"[:100],
        name=f"{run.name} (epoch {epoch})",
        kind=ModelEntry.Kind.LOCAL,
        model_path=str(path),
        description=f"Fine-tuned by training run {run.slug} from {run.base_model}, epoch {epoch}.",
    )
    return Checkpoint.objects.create(run=run, epoch=epoch, step=step, path=str(path), model=model)


class RunRecorder:
    """The trainer's observer: writes each step's metrics, reports job progress (which
    raises JobCancelled when a stop was asked for) and registers checkpoints."""

    def __init__(self, *, run: TrainingRun, job_id: int) -> None:
        self.run = run
        self.job_id = job_id

    def step_done(self, metrics: Any) -> None:
        TrainingStep.objects.update_or_create(
            run=self.run,
            step=metrics.step,
            defaults={
                "epoch": metrics.epoch,
                "loss": metrics.loss,
                "lr": metrics.lr,
                "tokens": metrics.tokens,
                "tokens_per_s": metrics.tokens_per_s,
                "elapsed_s": metrics.elapsed_s,
                "eta_s": metrics.eta_s,
                "grad_norm": metrics.grad_norm,
            },
        )
        job_progress(
            job_id=self.job_id,
            done=metrics.step,
            total=metrics.total_steps,
            note=f"epoch {metrics.epoch:.2f}, loss {metrics.loss:.4f}",
        )

    def checkpoint_saved(self, *, epoch: int, step: int, path: Path) -> None:
        checkpoint_register(run=self.run, epoch=epoch, step=step, path=path)


def run_conversations(run: TrainingRun) -> list[list[str]]:
    return list(run.dataset.examples.order_by("position").values_list("conversations", flat=True))


def train_in_process(*, run: TrainingRun, job_id: int, accelerator: Any = None) -> dict[str, Any]:
    """Train `run` in this process (one device, or one rank of an accelerate launch)."""
    from training.engine.loop import train

    result = train(
        base_model=run.base_model,
        conversations=run_conversations(run),
        settings=RecipeSettings.from_dict(run.recipe_settings),
        out_dir=Path(run.output_dir),
        observer=RunRecorder(run=run, job_id=job_id),
        accelerator=accelerator,
    )
    facts = {
        "eot_id": result.eot_id,
        "eot_added": result.eot_added,
        "examples": result.examples,
        "dropped_without_trained_tokens": result.dropped,
        "trimmed": result.trimmed,
        "steps": result.steps,
        "total_steps": result.total_steps,
    }
    TrainingRun.objects.filter(pk=run.pk).update(facts=facts)
    return {**facts, "checkpoints": [epoch for epoch, _ in result.checkpoints]}


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except ImportError:  # pragma: no cover - torch is a requirement
        return 0


def _train(*, job: Job, run: TrainingRun) -> dict[str, Any]:
    Path(run.output_dir).mkdir(parents=True, exist_ok=True)
    gpus = _gpu_count()
    if gpus <= 1:
        return train_in_process(run=run, job_id=job.pk)
    return _train_launched(job=job, run=run, processes=gpus)


def launch_command(*, run: TrainingRun, job: Job, processes: int) -> list[str]:
    """`accelerate launch` of training/launch.py with the FSDP config, one process per GPU
    of this host. Multi-node: see training/README.md."""
    return [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(FSDP_CONFIG), "--num_processes", str(processes),
        "-m", "training.launch", "--run-id", str(run.pk), "--job-id", str(job.pk),
    ]  # fmt: skip


def _train_launched(*, job: Job, run: TrainingRun, processes: int) -> dict[str, Any]:
    log_path = Path(run.output_dir) / "launch.log"
    with open(log_path, "ab") as log:
        status = subprocess.run(
            launch_command(run=run, job=job, processes=processes),
            cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        ).returncode  # fmt: skip
    if (
        status == CANCELLED_EXIT_CODE
        or Job.objects.filter(pk=job.pk, cancel_requested=True).exists()
    ):
        raise JobCancelled(f"job {job.pk} was cancelled")
    if status != 0:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"accelerate launch exited with {status}; log {log_path}:\n{tail}")
    run.refresh_from_db()
    return {**run.facts, "checkpoints": list(run.checkpoints.values_list("epoch", flat=True))}
