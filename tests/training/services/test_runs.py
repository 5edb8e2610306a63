"""Runs through the real training worker: curves, registered checkpoints, cancellation."""

import pytest

from evalhub.importing import parse_rows
from evalhub.jobs.models import Job
from evalhub.jobs.services import job_cancel
from evalhub.outputs.models import ModelEntry
from tests.factories import lab_team
from tests.support import wait_until
from training.models import TrainingRun
from training.services import (
    dataset_import,
    recipe_presets_ensure,
    training_run_cancel,
    training_run_create,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def dataset(conversations):
    import json

    rows = parse_rows(
        "\n".join(json.dumps({"conversations": c, "source": "t"}) for c in conversations)
    )
    return dataset_import(slug="tiny-lima", name="Tiny LIMA", rows=rows)


def finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None


def test_a_run_trains_on_the_worker_and_registers_each_saved_epoch(
    training_worker, dataset, tiny_model_dir, tmp_path
):
    [lima_65b, _] = recipe_presets_ensure()
    run = training_run_create(team=lab_team(),
        dataset=dataset, base_model=str(tiny_model_dir), recipe=lima_65b,
        overrides={"epochs": 2, "batch_size": 2, "save_epochs": [1, 2],
                   "eot_token": "<|lima_eot|>"},
        slug="tiny-run", output_dir=tmp_path / "run",
    )  # fmt: skip
    assert run.job.queue == "training"
    job = wait_until(lambda: finished(run.job_id), timeout=300)
    assert job.status == Job.Status.SUCCEEDED, job.error
    run.refresh_from_db()
    # The recipe is stored with the run: the preset plus the overrides.
    assert run.recipe_settings["batch_size"] == 2 and run.recipe_settings["lr_start"] == 1e-5
    assert run.facts["eot_added"] is True and run.facts["total_steps"] == 4
    steps = list(run.steps.order_by("step"))
    assert [s.step for s in steps] == [1, 2, 3, 4]
    assert steps[0].lr == 1e-5 and steps[-1].lr == 1e-6
    assert job.progress_done == job.progress_total == 4
    checkpoints = list(run.checkpoints.order_by("epoch"))
    assert [c.epoch for c in checkpoints] == [1, 2]
    for c in checkpoints:
        assert c.model.kind == ModelEntry.Kind.LOCAL
        assert c.model.model_path == str(tmp_path / "run" / f"epoch-{c.epoch:02d}")
        assert (tmp_path / "run" / f"epoch-{c.epoch:02d}" / "model.safetensors").exists()


def test_a_running_run_can_be_cancelled(training_worker, dataset, tiny_model_dir, tmp_path):
    [lima_65b, _] = recipe_presets_ensure()
    run = training_run_create(team=lab_team(),
        dataset=dataset, base_model=str(tiny_model_dir), recipe=lima_65b,
        overrides={"epochs": 15, "batch_size": 1, "save_epochs": []},
        slug="long-run", output_dir=tmp_path / "long",
    )  # fmt: skip
    wait_until(lambda: TrainingRun.objects.get(pk=run.pk).steps.exists(), timeout=300)
    training_run_cancel(run=run)
    job = wait_until(lambda: finished(run.job_id), timeout=120)
    assert job.status == Job.Status.CANCELLED
    assert run.steps.count() < 60  # it stopped before the end


def test_a_queued_run_cancelled_before_it_starts_never_trains(dataset, tiny_model_dir, tmp_path):
    [lima_65b, _] = recipe_presets_ensure()
    run = training_run_create(team=lab_team(), dataset=dataset, base_model=str(tiny_model_dir), recipe=lima_65b,
                              slug="never", output_dir=tmp_path / "never")  # fmt: skip
    job_cancel(job_id=run.job_id)
    assert Job.objects.get(pk=run.job_id).status == Job.Status.CANCELLED
