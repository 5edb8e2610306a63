"""Jobs and the runs that start them (judge runs, generation runs)."""

from __future__ import annotations

from rest_framework import serializers

from evalhub.api.strict import (
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    StrictSlugRelatedField,
)
from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Study


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
    judge = StrictSlugRelatedField(slug_field="slug", queryset=Judge.objects)
    study = StrictSlugRelatedField(slug_field="slug", queryset=Study.objects)
    budget_usd = StrictFloatField(min_value=0, max_value=1_000_000, required=False,
                                  help_text="refuse (409) a run estimated above it")  # fmt: skip


class GenerationRunCreateSerializer(StrictSerializer):
    model = StrictSlugRelatedField(slug_field="slug", queryset=ModelEntry.objects)
    prompt_set = StrictSlugRelatedField(slug_field="slug", queryset=PromptSet.objects)
    samples = StrictIntegerField(min_value=1, max_value=100, required=False)
