"""Jobs and the runs that start them (judge runs, generation runs)."""

from __future__ import annotations

from rest_framework import serializers

from evalhub.api.strict import (
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    TeamSlugRelatedField,
)
from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets
from evalhub.studies.models import Judge, Study
from evalhub.studies.selectors import team_judges, team_studies


class JobSerializer(serializers.ModelSerializer):
    progress_fraction = serializers.FloatField(read_only=True)
    is_finished = serializers.BooleanField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "status", "queue", "params", "result", "progress_done",
            "progress_total", "progress_fraction", "progress_note", "error", "attempts",
            "cancel_requested", "is_finished", "created_at", "started_at", "heartbeat_at",
            "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class JudgeRunCreateSerializer(StrictSerializer):
    judge = TeamSlugRelatedField(selector=team_judges, model=Judge)
    study = TeamSlugRelatedField(selector=team_studies, model=Study)
    budget_usd = StrictFloatField(min_value=0, max_value=1_000_000, required=False,
                                  help_text="refuse (409) a run estimated above it")  # fmt: skip


class GenerationRunCreateSerializer(StrictSerializer):
    model = TeamSlugRelatedField(selector=team_models, model=ModelEntry)
    prompt_set = TeamSlugRelatedField(selector=team_prompt_sets, model=PromptSet)
    samples = StrictIntegerField(min_value=1, max_value=100, required=False)
