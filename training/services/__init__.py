"""Writes for the training app. `training_job_run` is the job handler for kind "training"
(evalhub.jobs.handlers): it trains a run, or selects a run's checkpoint on a dev set."""

from training.services.datasets import dataset_import, dataset_measure
from training.services.recipes import recipe_create, recipe_presets_ensure
from training.services.runs import (
    checkpoint_register,
    training_job_run,
    training_run_cancel,
    training_run_create,
)
from training.services.selection import (
    checkpoint_choose,
    checkpoint_proposal_accept,
    checkpoint_selection_start,
    chosen_checkpoint_study_create,
)

__all__ = [
    "checkpoint_choose",
    "checkpoint_proposal_accept",
    "checkpoint_register",
    "checkpoint_selection_start",
    "chosen_checkpoint_study_create",
    "dataset_import",
    "dataset_measure",
    "recipe_create",
    "recipe_presets_ensure",
    "training_job_run",
    "training_run_cancel",
    "training_run_create",
]
