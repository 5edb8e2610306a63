"""Live studies: the create request (one variant per live mode, told apart by `mode`) and
the live study as answered, with its live settings and monitor counts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from evalhub.api.serializers.common import NOT_BLANK_VALIDATOR
from evalhub.api.serializers.instruments import InstrumentField
from evalhub.api.serializers.studies import StudySerializer
from evalhub.api.strict import (
    SLUG_PATTERN,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictManyRelatedField,
    StrictSerializer,
    StrictSlugField,
    TeamSlugRelatedField,
)
from evalhub.live.models import LiveStudy
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Study
from evalhub.studies.selectors import team_judges


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 100},
        "description": "slugs of registered models with an OpenAI-compatible endpoint "
        "(base_url and model_path)",
    }
)
class LiveModelsField(StrictManyRelatedField):
    pass


@extend_schema_field(
    {
        "type": "array",
        "minItems": 2,
        "items": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 100},
        "description": "slugs of two or more registered models with an OpenAI-compatible "
        "endpoint; the first is the study's target",
    }
)
class BattleModelsField(StrictManyRelatedField):
    pass


class _LiveStudyCreateBase(StrictSerializer):
    slug = StrictSlugField(max_length=95)
    name = StrictCharField(max_length=200, validators=[NOT_BLANK_VALIDATOR])
    participants = StrictChoiceField(
        choices=LiveStudy.Participants.choices, required=False,
        help_text="prolific (default): the /live/<crowd_code>/ entry link with Prolific ids; "
        "staff: logged-in users at /live/<crowd_code>/staff/, with no Prolific codes",
    )  # fmt: skip
    models = LiveModelsField(
        child_relation=TeamSlugRelatedField(selector=team_models, model=ModelEntry),
        allow_empty=False,
    )
    max_turns = StrictIntegerField(min_value=1, max_value=20, required=False)
    session_quota = StrictIntegerField(min_value=1, max_value=1000, required=False)
    target_per_pair = StrictIntegerField(min_value=1, max_value=100_000, required=False)
    max_tokens = StrictIntegerField(
        min_value=1, max_value=8192, required=False,
        help_text="caps each model's own sampling (its generation_config) in this study",
    )  # fmt: skip
    concurrency = StrictIntegerField(
        min_value=1, max_value=1000, required=False, help_text="streams at once per model"
    )
    max_prompt_chars = StrictIntegerField(min_value=1, max_value=100_000, required=False)
    messages_per_minute = StrictIntegerField(min_value=1, max_value=600, required=False)
    blocklist = serializers.ListField(
        child=StrictCharField(max_length=200, validators=[NOT_BLANK_VALIDATOR]),
        required=False, max_length=1000,
    )  # fmt: skip
    moderation_judge = TeamSlugRelatedField(
        selector=team_judges, model=Judge, required=False, allow_null=True
    )
    completion_code = StrictCharField(max_length=100, required=False, allow_blank=True)
    screenout_code = StrictCharField(max_length=100, required=False, allow_blank=True)

    def validate_slug(self, value: str) -> str:
        team = self.context["team"]
        if Study.objects.filter(team=team, slug=value).exists():
            raise serializers.ValidationError(f"a study {value!r} already exists", code="unique")
        if PromptSet.objects.filter(team=team, slug=f"{value}-live").exists():
            raise serializers.ValidationError(
                f"a prompt set {value}-live already exists", code="unique"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("participants") == LiveStudy.Participants.STAFF:
            codes = [k for k in ("completion_code", "screenout_code") if attrs.get(k)]
            if codes:
                raise serializers.ValidationError(
                    {k: ["a staff study has no Prolific codes"] for k in codes}, code="conflict"
                )
        return attrs

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of evalhub.live.creation.live_study_create."""
        d = dict(self.validated_data)
        limits = {k: d.pop(k) for k in ("max_tokens", "concurrency") if k in d}
        models = list(d["models"])
        d["models"] = models
        d["model_limits"] = {m.slug: dict(limits) for m in models} if limits else {}
        return d


class LiveConversationCreateSerializer(_LiveStudyCreateBase):
    """Each participant chats with one anonymous model for up to `max_turns` turns and
    labels every answer Fail / Pass / Excellent."""

    mode = StrictChoiceField(choices=[LiveStudy.Mode.CONVERSATION.value])


class LiveBattleCreateSerializer(_LiveStudyCreateBase):
    """Each participant sends the same messages to two anonymous models side by side and
    votes (Chatbot Arena); `models` needs two or more."""

    mode = StrictChoiceField(choices=[LiveStudy.Mode.BATTLE.value])
    models = BattleModelsField(
        child_relation=TeamSlugRelatedField(selector=team_models, model=ModelEntry),
        allow_empty=False,
    )
    adaptive = StrictBooleanField(required=False)
    reveal_models = StrictBooleanField(
        required=False, help_text="show the model names after the vote (default false: blind)"
    )
    instrument = InstrumentField(
        required=False, allow_null=True,
        help_text="a pairwise instrument's slug (arena-4way, arena-hard-5point, a custom "
        "one); null or absent: LIMA's 3-way question",
    )  # fmt: skip

    def validate_models(self, value: list[ModelEntry]) -> list[ModelEntry]:
        if len(value) < 2:
            raise serializers.ValidationError("a live battle needs at least two models")
        return value


LIVE_STUDY_CREATE_VARIANTS: dict[str, type[_LiveStudyCreateBase]] = {
    LiveStudy.Mode.CONVERSATION.value: LiveConversationCreateSerializer,
    LiveStudy.Mode.BATTLE.value: LiveBattleCreateSerializer,
}
LiveStudyCreateRequest = PolymorphicProxySerializer(
    component_name="LiveStudyCreate",
    serializers=LIVE_STUDY_CREATE_VARIANTS,
    resource_type_field_name="mode",
)


class LiveSettingsSerializer(serializers.ModelSerializer):
    moderation_judge = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = LiveStudy
        fields = [
            "mode", "participants", "max_turns", "target_per_pair", "adaptive", "reveal_models",
            "max_prompt_chars", "messages_per_minute", "blocklist", "moderation_judge",
            "model_limits",
        ]  # fmt: skip


class LiveMonitorSerializer(serializers.Serializer):
    conversations_active = serializers.IntegerField()
    conversations_finished = serializers.IntegerField()
    conversations_abandoned = serializers.IntegerField()
    turns_answered = serializers.IntegerField()
    turns_failed = serializers.IntegerField()
    turns_streaming = serializers.IntegerField()
    tokens_streamed = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(
        max_digits=14, decimal_places=6, allow_null=True,
        help_text="USD at the price table's rates (per endpoint model name); null while no "
        "model of the study has a price",
    )  # fmt: skip
    unpriced_models = serializers.ListField(
        child=serializers.CharField(), help_text="endpoint model names without a price"
    )


class LiveStudySerializer(StudySerializer):
    """A live study: the study (`instrument`: what a battle asks; null: LIMA's 3-way), its
    live settings and its monitor counts."""

    live = LiveSettingsSerializer(read_only=True)
    monitor = serializers.SerializerMethodField()

    class Meta(StudySerializer.Meta):
        fields = [*StudySerializer.Meta.fields, "live", "monitor"]

    @extend_schema_field(LiveMonitorSerializer)
    def get_monitor(self, obj: Study) -> dict[str, Any]:
        from evalhub.live.monitoring import live_monitor

        return LiveMonitorSerializer(live_monitor(study=obj)).data


class LivePreviewTurnSerializer(StrictSerializer):
    user = StrictCharField(max_length=100_000)
    assistant = StrictCharField(max_length=100_000, allow_blank=True)


class LivePreviewMessageSerializer(StrictSerializer):
    """A message to the study's models (a battle's first pair, a conversation's first
    model), after the preview's earlier turns per side ("A", and "B" in a battle)."""

    text = StrictCharField(max_length=100_000)
    history = serializers.DictField(
        child=serializers.ListField(child=LivePreviewTurnSerializer(), max_length=100),
        required=False,
        help_text='earlier turns per side: {"A": [{"user", "assistant"}, ...], "B": [...]}',
    )

    def validate_history(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - {"A", "B"})
        if unknown:
            raise serializers.ValidationError(f"sides are A and B, not {', '.join(unknown)}")
        return value


class LivePreviewAnswerSerializer(serializers.Serializer):
    side = serializers.CharField(help_text='"A" (left or only model) or "B" (right)')
    text = serializers.CharField(allow_blank=True)
    html = serializers.CharField(allow_blank=True, help_text="rendered and sanitised")
    error = serializers.CharField(allow_blank=True, help_text="that side's endpoint failed")


class LivePreviewSerializer(serializers.Serializer):
    answers = LivePreviewAnswerSerializer(many=True)
