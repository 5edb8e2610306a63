"""Request and response shapes of the API. Requests are checked for shape here; every
domain rule (ids, duplicates, existing rows) is checked by the service the view calls."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evalhub.instruments.definitions import STUDY_KINDS
from evalhub.instruments.models import Instrument
from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Judge, Study

# --- errors -------------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="1-based row (line) or null")
    field = serializers.CharField(allow_blank=True, help_text="dotted path, or '' for all")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    problems = ProblemSerializer(many=True)


# --- prompt sets ----------------------------------------------------------------------


class PromptRowDoc(serializers.Serializer):
    """One prompt: ours ({"id", "text", ...}) or LIMA's ({"conversations": [...]})."""

    id = serializers.CharField(required=False, help_text="external id, unique in the set")
    text = serializers.CharField(required=False)
    category = serializers.CharField(required=False, allow_blank=True)
    source = serializers.CharField(required=False, allow_blank=True)
    reference = serializers.CharField(required=False, allow_blank=True)
    context = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text='earlier turns: [{"role": "user"|"assistant", "content": str}]',
    )
    conversations = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="LIMA's format"
    )


@extend_schema_field(PromptRowDoc(many=True))
class PromptRowsField(serializers.ListField):
    """Passed to prompts_import as-is; it checks every row and names the bad ones."""

    child = serializers.DictField()


class PromptSetCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    prompts = PromptRowsField(min_length=1, max_length=50_000)

    def validate_slug(self, value: str) -> str:
        if PromptSet.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"a prompt set {value!r} already exists")
        return value


class PromptSetSerializer(serializers.ModelSerializer):
    prompt_count = serializers.SerializerMethodField()

    class Meta:
        model = PromptSet
        fields = ["slug", "name", "description", "prompt_count", "created_at"]

    def get_prompt_count(self, obj: PromptSet) -> int:
        annotated = getattr(obj, "prompt_count", None)  # prompt_sets_with_counts()
        return annotated if annotated is not None else obj.prompts.count()


class PromptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prompt
        fields = ["id", "external_id", "text", "context", "category", "source", "position"]


# --- models and outputs ---------------------------------------------------------------


class ModelEntrySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ModelEntry.Kind.choices, default="external")
    tensor_parallel_size = serializers.IntegerField(min_value=1, max_value=64, default=1)
    generation_config = serializers.DictField(required=False, default=dict)

    class Meta:
        model = ModelEntry
        fields = [
            "slug", "name", "kind", "model_path", "base_url", "api_key_env",
            "tensor_parallel_size", "generation_config", "description", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]
        extra_kwargs = {"slug": {"validators": []}, "name": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", ModelEntry.Kind.EXTERNAL)
        needed = {"local": ["model_path"], "api": ["model_path", "base_url"]}.get(kind, [])
        missing = {
            name: [f"is required for a model of kind {kind!r}"]
            for name in needed
            if not attrs.get(name)
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class OutputSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    prompt_external_id = serializers.CharField(source="prompt.external_id", read_only=True)

    class Meta:
        model = Output
        fields = [
            "id", "prompt", "prompt_external_id", "model", "sample_index", "text",
            "turns", "provenance", "created_at",
        ]  # fmt: skip


class OutputRowDoc(serializers.Serializer):
    """One output row. Name the prompt by prompt_id, external_id or exact instruction."""

    prompt_id = serializers.IntegerField(required=False)
    external_id = serializers.CharField(required=False)
    instruction = serializers.CharField(required=False, help_text="AlpacaEval's field")
    output = serializers.CharField(help_text="the output text (or `text`)")
    model = serializers.CharField(required=False, help_text="model slug (or `generator`)")
    generator = serializers.CharField(required=False, help_text="AlpacaEval's field")
    sample_index = serializers.IntegerField(required=False, min_value=0, max_value=999)
    provenance = serializers.DictField(required=False)
    turns = serializers.ListField(child=serializers.CharField(), required=False)


class OutputImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    models_created = serializers.ListField(child=serializers.CharField())
    changed_nothing = serializers.BooleanField()
    detail = serializers.CharField()


# --- studies, judges, jobs ------------------------------------------------------------


class InstrumentSerializer(serializers.ModelSerializer):
    """An instrument version. On create, the definition is checked by
    evalhub.instruments.definitions (field errors name e.g. `choices[1].key`)."""

    slug = serializers.SlugField(max_length=100)
    kind = serializers.CharField()
    choices = serializers.JSONField()
    verdict_schema = serializers.SerializerMethodField()

    class Meta:
        model = Instrument
        fields = [
            "slug", "version", "name", "kind", "levels", "intro", "question", "choices",
            "gold_choice", "comment", "judge_template", "credit", "content_hash",
            "is_preset", "verdict_schema", "created_at",
        ]  # fmt: skip
        read_only_fields = ["version", "content_hash", "is_preset", "created_at"]
        extra_kwargs = {"question": {"allow_blank": True}, "name": {"required": True}}

    def get_verdict_schema(self, obj: Instrument) -> dict[str, Any]:
        return obj.definition.verdict_schema()


@extend_schema_field({"type": "string", "description": "instrument slug (newest version)"})
class InstrumentField(serializers.Field):
    """An instrument named by slug: its newest version."""

    default_error_messages = {"missing": "no instrument {slug!r}"}

    def to_internal_value(self, data: Any) -> Instrument:
        from evalhub.instruments.selectors import instrument_latest

        found = instrument_latest(slug=str(data)) if isinstance(data, str) else None
        if found is None:
            self.fail("missing", slug=data)
        return found

    def to_representation(self, value: Instrument) -> str:
        return value.slug


class StudySerializer(serializers.ModelSerializer):
    prompt_set = serializers.SlugRelatedField(slug_field="slug", queryset=PromptSet.objects)
    target_model = serializers.SlugRelatedField(slug_field="slug", queryset=ModelEntry.objects)
    baselines = serializers.SlugRelatedField(
        slug_field="slug", queryset=ModelEntry.objects, many=True
    )
    judges = serializers.SlugRelatedField(
        slug_field="slug", queryset=Judge.objects, many=True, required=False
    )
    raters_per_item = serializers.IntegerField(min_value=1, max_value=100, default=3)
    attention_check_rate = serializers.FloatField(min_value=0.0, max_value=0.5, default=0.1)
    session_quota = serializers.IntegerField(min_value=1, max_value=10_000, default=20)
    reservation_seconds = serializers.IntegerField(min_value=60, max_value=86_400, default=900)
    item_count = serializers.SerializerMethodField()
    instrument = InstrumentField(required=False, allow_null=True)
    instrument_version = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "slug", "name", "kind", "instrument", "instrument_version", "status",
            "prompt_set", "target_model", "baselines",
            "judges", "raters_per_item", "attention_check_rate", "session_quota",
            "reservation_seconds", "completion_code", "screenout_code", "config_hash",
            "item_count", "created_at", "launched_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = ["status", "config_hash", "created_at", "launched_at", "closed_at"]

    def get_item_count(self, obj: Study) -> int:
        return obj.items.filter(is_gold=False).count()

    def get_instrument_version(self, obj: Study) -> int | None:
        return obj.instrument.version if obj.instrument_id else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instrument = attrs.get("instrument")
        if instrument is not None:
            kinds = STUDY_KINDS[instrument.kind]
            if "kind" not in self.initial_data:  # the instrument says what the study is
                attrs["kind"] = kinds[0]
            elif attrs.get("kind") not in kinds:
                raise serializers.ValidationError(
                    {"instrument": [f"a {instrument.kind} instrument runs a study of kind "
                                    f"{' or '.join(kinds)}, not {attrs.get('kind')!r}"]}
                )  # fmt: skip
        target = attrs.get("target_model")
        if target is not None and target in attrs.get("baselines", []):
            raise serializers.ValidationError({"baselines": ["must not include the target model"]})
        return attrs


class JudgeSerializer(serializers.ModelSerializer):
    template = serializers.ChoiceField(choices=Judge.Template.choices)
    verdict_mode = serializers.ChoiceField(
        choices=Judge.VerdictMode.choices, default=Judge.VerdictMode.GUIDED_CHOICE
    )
    params = serializers.DictField(required=False, default=dict)

    class Meta:
        model = Judge
        fields = [
            "slug", "name", "model", "base_url", "api_key_env", "template", "custom_template",
            "params", "verdict_mode", "version_hash", "created_at",
        ]  # fmt: skip
        read_only_fields = ["version_hash", "created_at"]
        extra_kwargs = {"slug": {"validators": []}, "name": {"required": False}}


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


class JudgeRunCreateSerializer(serializers.Serializer):
    judge = serializers.SlugRelatedField(slug_field="slug", queryset=Judge.objects)
    study = serializers.SlugRelatedField(slug_field="slug", queryset=Study.objects)
    budget_usd = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=0, required=False, allow_null=True
    )


class GenerationRunCreateSerializer(serializers.Serializer):
    model = serializers.SlugRelatedField(slug_field="slug", queryset=ModelEntry.objects)
    prompt_set = serializers.SlugRelatedField(slug_field="slug", queryset=PromptSet.objects)
    samples = serializers.IntegerField(min_value=1, max_value=100, default=1)


# --- judgments ------------------------------------------------------------------------


class JudgmentRowDoc(serializers.Serializer):
    """AlpacaEval annotations ({"instruction", "output_1", "output_2", "generator_1",
    "generator_2", "preference"}) or ours ({"item_id" | prompt key + "baseline",
    "verdict" | "label" | "score"})."""

    instruction = serializers.CharField(required=False)
    generator_1 = serializers.CharField(required=False)
    generator_2 = serializers.CharField(required=False)
    output_1 = serializers.CharField(required=False)
    output_2 = serializers.CharField(required=False)
    preference = serializers.FloatField(required=False, help_text="1, 2, or 0 / 1.5 for a tie")
    item_id = serializers.IntegerField(required=False)
    external_id = serializers.CharField(required=False)
    prompt_id = serializers.IntegerField(required=False)
    model = serializers.CharField(required=False)
    baseline = serializers.CharField(required=False)
    verdict = serializers.CharField(required=False)
    score = serializers.FloatField(required=False)


class JudgmentImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    judge_group = serializers.CharField()
    imported_from = serializers.CharField()
    changed_nothing = serializers.BooleanField()
    detail = serializers.CharField()
