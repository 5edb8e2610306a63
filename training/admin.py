from django.contrib import admin

from training.models import Checkpoint, Recipe, TrainingDataset, TrainingRun


@admin.register(TrainingDataset)
class TrainingDatasetAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "is_preset"]


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["slug", "dataset", "base_model", "recipe", "created_at"]
    raw_id_fields = ["job", "selection_job", "proposed_checkpoint", "chosen_checkpoint"]


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ["run", "epoch", "step", "model", "dev_score"]
