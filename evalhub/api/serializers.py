"""Request and response shapes of the API. Requests are checked for shape here; every
domain rule (ids, duplicates, existing rows) is checked by the service the view calls."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from evalhub.api.row_shapes import NOT_BLANK, InvalidRows
from evalhub.api.rows import PROMPT_ROWS
from evalhub.api.strict import (
    SLUG_PATTERN,
    SchemaPattern,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictJSONObjectField,
    StrictManyRelatedField,
    StrictSerializer,
    StrictSlugField,
    StrictSlugRelatedField,
)
from evalhub.importing import Row, RowProblem
from evalhub.instruments.definitions import STUDY_KINDS
from evalhub.instruments.models import Instrument
from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Judge, Study

# Text that is not only whitespace; an http(s) URL (no brackets in the host part, so no IPv6
# literal: URL parsers refuse a stray one); an environment variable's name.
NOT_BLANK_VALIDATOR = SchemaPattern(NOT_BLANK, "must not be blank")
HTTP_URL_VALIDATOR = SchemaPattern(
    "^https?://[^\\u0000-\\u0020/?#\\[\\]@]+([/?#][^\\u0000-\\u0020]*)?$",
    "must be an http(s) URL",
)
ENV_NAME_VALIDATOR = SchemaPattern("^[A-Za-z_][A-Za-z0-9_]*$", "must be a variable name")

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


@extend_schema_field(
    {"type": "array", "minItems": 1, "maxItems": 50_000, "items": PROMPT_ROWS.one_of()}
)
class PromptRowsField(serializers.Field):
    """Rows checked against their shape here (400 naming the row); prompts_import then
    checks them against the set (409)."""

    def to_internal_value(self, data: Any) -> list[Row]:
        if not isinstance(data, list) or not data or len(data) > 50_000:
            raise serializers.ValidationError("must be a list of 1 to 50,000 prompt rows")
        rows: list[Row] = []
        for number, row in enumerate(data, start=1):
            if not isinstance(row, dict):
                raise InvalidRows([RowProblem(number, "must be an object")])
            rows.append((number, row))
        PROMPT_ROWS.check(rows)
        return rows

    def to_representation(self, value: Any) -> Any:
        return value


class PromptSetCreateSerializer(StrictSerializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    description = StrictCharField(required=False, allow_blank=True)
    prompts = PromptRowsField()

    def validate_slug(self, value: str) -> str:
        if PromptSet.objects.filter(slug=value).exists():
            raise serializers.ValidationError(
                f"a prompt set {value!r} already exists", code="unique"
            )
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
    """A registered model, as the API answers it."""

    base_url = serializers.CharField()  # as given: an http(s) URL, or "" for other kinds

    class Meta:
        model = ModelEntry
        fields = [
            "slug", "name", "kind", "model_path", "base_url", "api_key_env",
            "tensor_parallel_size", "generation_config", "description", "created_at",
        ]  # fmt: skip


class _ModelRegisterBase(StrictSerializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, required=False, help_text="default: the slug")
    generation_config = StrictJSONObjectField(required=False)
    description = StrictCharField(required=False, allow_blank=True)


class ExternalModelRegisterSerializer(_ModelRegisterBase):
    """A model whose outputs arrive through this API."""

    kind = StrictChoiceField(choices=["external"])


class LocalModelRegisterSerializer(_ModelRegisterBase):
    """A model run by vLLM on the generation workers."""

    kind = StrictChoiceField(choices=["local"])
    model_path = StrictCharField(max_length=500, validators=[NOT_BLANK_VALIDATOR],
                                 help_text="a path or hub name of the weights")  # fmt: skip
    tensor_parallel_size = StrictIntegerField(min_value=1, max_value=64, required=False)


class ApiModelRegisterSerializer(_ModelRegisterBase):
    """A model behind an OpenAI-compatible endpoint."""

    kind = StrictChoiceField(choices=["api"])
    model_path = StrictCharField(max_length=500, validators=[NOT_BLANK_VALIDATOR],
                                 help_text="the model's name at the endpoint")  # fmt: skip
    base_url = StrictCharField(max_length=500, validators=[HTTP_URL_VALIDATOR])
    api_key_env = StrictCharField(max_length=100, required=False, validators=[ENV_NAME_VALIDATOR],
                                  help_text="the environment variable holding its key")  # fmt: skip


MODEL_REGISTER_VARIANTS: dict[str, type[StrictSerializer]] = {
    "external": ExternalModelRegisterSerializer,
    "local": LocalModelRegisterSerializer,
    "api": ApiModelRegisterSerializer,
}
ModelRegisterRequest = PolymorphicProxySerializer(
    component_name="ModelRegister",
    serializers=MODEL_REGISTER_VARIANTS,
    resource_type_field_name="kind",
)


class OutputSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    prompt_external_id = serializers.CharField(source="prompt.external_id", read_only=True)

    class Meta:
        model = Output
        fields = [
            "id", "prompt", "prompt_external_id", "model", "sample_index", "text",
            "turns", "provenance", "created_at",
        ]  # fmt: skip


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


class InstrumentChoiceSerializer(StrictSerializer):
    """One choice of an instrument. Which of side / weight / score a kind needs, and keys
    or values that repeat, are rules across fields: refused with 409."""

    key = StrictIntegerField(min_value=1, max_value=9, required=False)
    value = StrictCharField(
        max_length=20,
        validators=[SchemaPattern(r"^[A-Za-z0-9_.=<>+-]+$", "letters, digits, _ . = < > + -")],
    )
    label = StrictCharField(
        max_length=200, validators=[SchemaPattern(r"^[^\n\u0000]*\S", "one non-empty line")]
    )
    definition = StrictCharField(max_length=2000, required=False, allow_blank=True)
    side = StrictChoiceField(choices=["A", "B", "tie"], required=False)
    weight = StrictFloatField(min_value=0.001, max_value=1000, required=False)
    score = StrictFloatField(min_value=-1e6, max_value=1e6, required=False)


class InstrumentRequestSerializer(StrictSerializer):
    """An instrument definition as the API takes it (all fields, or some for an edit)."""

    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, validators=[NOT_BLANK_VALIDATOR])
    # The model's own choice sets, so the schema names one enum for each.
    kind = StrictChoiceField(choices=Instrument.Kind.choices)
    levels = StrictChoiceField(choices=Instrument.Levels.choices, required=False)
    intro = StrictCharField(max_length=5000, required=False, allow_blank=True)
    question = StrictCharField(max_length=2000, validators=[NOT_BLANK_VALIDATOR])
    choices = serializers.ListField(child=InstrumentChoiceSerializer(), min_length=1, max_length=9)
    gold_choice = StrictCharField(max_length=20, required=False, allow_blank=True)
    comment = StrictChoiceField(choices=Instrument.Comment.choices, required=False)
    judge_template = StrictCharField(max_length=20_000, required=False, allow_blank=True)
    credit = StrictCharField(max_length=2000, required=False, allow_blank=True)


class InstrumentEditSerializer(InstrumentRequestSerializer):
    slug = None  # the URL names it


@extend_schema_field(
    {
        "type": "string",
        "pattern": SLUG_PATTERN,
        "maxLength": 100,
        "description": "instrument slug (its newest version)",
    }
)
class InstrumentField(serializers.Field):
    """An instrument named by slug: its newest version. Like StrictSlugRelatedField, an
    unknown slug is a 409 (does_not_exist): the request is well-formed."""

    default_error_messages = {
        "type": "must be a string (a slug)",
        "does_not_exist": "no instrument {slug!r}",
    }

    def to_internal_value(self, data: Any) -> Instrument:
        from evalhub.instruments.selectors import instrument_latest

        if not isinstance(data, str):
            self.fail("type")
        found = instrument_latest(slug=data)
        if found is None:
            self.fail("does_not_exist", slug=data)
        return found

    def to_representation(self, value: Instrument) -> str:
        return value.slug


class StudySerializer(serializers.ModelSerializer):
    """A study, as the API answers it."""

    prompt_set = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    target_model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    baselines = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)
    judges = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)
    item_count = serializers.SerializerMethodField()
    instrument = InstrumentField(read_only=True, allow_null=True)
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

    def get_item_count(self, obj: Study) -> int:
        return obj.items.filter(is_gold=False).count()

    def get_instrument_version(self, obj: Study) -> int | None:
        return obj.instrument.version if obj.instrument_id else None


class _StudyCreateBase(StrictSerializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, validators=[NOT_BLANK_VALIDATOR])
    prompt_set = StrictSlugRelatedField(slug_field="slug", queryset=PromptSet.objects)
    target_model = StrictSlugRelatedField(slug_field="slug", queryset=ModelEntry.objects)
    judges = StrictSlugRelatedField(
        slug_field="slug", queryset=Judge.objects, many=True, required=False
    )
    raters_per_item = StrictIntegerField(min_value=1, max_value=100, required=False)
    attention_check_rate = StrictFloatField(min_value=0.0, max_value=0.5, required=False)
    session_quota = StrictIntegerField(min_value=1, max_value=10_000, required=False)
    reservation_seconds = StrictIntegerField(min_value=60, max_value=86_400, required=False)
    completion_code = StrictCharField(max_length=100, required=False, allow_blank=True)
    screenout_code = StrictCharField(max_length=100, required=False, allow_blank=True)
    instrument = InstrumentField(required=False, allow_null=True)

    def validate_instrument(self, value: Instrument | None) -> Instrument | None:
        kind = self.initial_data.get("kind") if isinstance(self.initial_data, dict) else None
        if value is not None and kind not in STUDY_KINDS[value.kind]:
            kinds = " or ".join(STUDY_KINDS[value.kind])
            raise serializers.ValidationError(
                f"a {value.kind} instrument runs a study of kind {kinds}, not {kind!r}",
                code="conflict",
            )
        return value

    def validate_slug(self, value: str) -> str:
        if Study.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"a study {value!r} already exists", code="unique")
        return value


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 100},
        "description": "slugs of the models the target is compared with",
    }
)
class BaselinesField(StrictManyRelatedField):
    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and not data:
            raise serializers.ValidationError("must name at least one baseline")
        return super().to_internal_value(data)


class PairwiseStudyCreateSerializer(_StudyCreateBase):
    """Target against each baseline, one item per prompt and baseline."""

    kind = StrictChoiceField(choices=["pairwise"])
    baselines = BaselinesField(
        child_relation=StrictSlugRelatedField(slug_field="slug", queryset=ModelEntry.objects),
        allow_empty=False,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["target_model"] in attrs["baselines"]:
            raise serializers.ValidationError(
                {"baselines": ["must not include the target model"]}, code="conflict"
            )
        return attrs


class SingleOutputStudyCreateSerializer(_StudyCreateBase):
    """One output of the target per item: Fail / Pass / Excellent (`absolute`), the same per
    turn (`dialogue`), or a 1-6 helpfulness score (`likert`). No baselines."""

    kind = StrictChoiceField(choices=["absolute", "dialogue", "likert"])


STUDY_CREATE_VARIANTS: dict[str, type[StrictSerializer]] = {
    "pairwise": PairwiseStudyCreateSerializer,
    "absolute": SingleOutputStudyCreateSerializer,
    "dialogue": SingleOutputStudyCreateSerializer,
    "likert": SingleOutputStudyCreateSerializer,
}
StudyCreateRequest = PolymorphicProxySerializer(
    component_name="StudyCreate",
    serializers=STUDY_CREATE_VARIANTS,
    resource_type_field_name="kind",
)


class JudgeSerializer(serializers.ModelSerializer):
    """An LLM judge, as the API answers it."""

    base_url = serializers.CharField()  # as given

    class Meta:
        model = Judge
        fields = [
            "slug", "name", "model", "base_url", "api_key_env", "template", "custom_template",
            "params", "verdict_mode", "version_hash", "created_at",
        ]  # fmt: skip


class _JudgeParams(StrictSerializer):
    """How the judge is called (all optional). Verdict-changing: temperature, max_tokens,
    top_p, seed, samples, extra_body; operational: the rest."""

    temperature = StrictFloatField(min_value=0, max_value=2, required=False,
                                   help_text="default 0 (Likert 1.0)")  # fmt: skip
    max_tokens = StrictIntegerField(min_value=1, max_value=1_000_000, required=False)
    top_p = StrictFloatField(min_value=0, max_value=1, required=False)
    seed = StrictIntegerField(min_value=0, max_value=2**31 - 1, required=False)
    extra_body = StrictJSONObjectField(required=False,
                                       help_text="merged into every request body")  # fmt: skip
    concurrency = StrictIntegerField(min_value=1, max_value=4096, required=False)
    rpm = StrictIntegerField(min_value=1, max_value=10**9, required=False)
    tpm = StrictIntegerField(min_value=1, max_value=10**12, required=False)
    timeout_s = StrictFloatField(min_value=0.1, max_value=86_400, required=False)
    max_attempts = StrictIntegerField(min_value=1, max_value=100, required=False)
    max_reasks = StrictIntegerField(min_value=0, max_value=100, required=False)
    backoff_base_s = StrictFloatField(min_value=0, max_value=3600, required=False)
    backoff_max_s = StrictFloatField(min_value=0, max_value=86_400, required=False)


class OneSampleJudgeParams(_JudgeParams):
    samples = StrictIntegerField(min_value=1, max_value=1, required=False,
                                 help_text="one answer per output")  # fmt: skip


class LikertJudgeParams(_JudgeParams):
    samples = StrictIntegerField(min_value=1, max_value=16, required=False,
                                 help_text="answers per output, averaged (LIMA: 5)")  # fmt: skip


class CustomJudgeParams(LikertJudgeParams):
    samples = StrictIntegerField(min_value=1, max_value=16, required=False,
                                 help_text="more than 1 only on the likert scale")  # fmt: skip
    scale = StrictChoiceField(choices=["pairwise", "label", "likert"], required=False,
                              help_text="default: read from the template's slots")  # fmt: skip
    choices = serializers.DictField(
        child=StrictCharField(validators=[NOT_BLANK_VALIDATOR]), required=False,
        help_text="answer text -> meaning; the scale's defaults when omitted",
    )  # fmt: skip


class _JudgeRegisterBase(StrictSerializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, required=False, help_text="default: the slug")
    model = StrictCharField(max_length=200, validators=[NOT_BLANK_VALIDATOR])
    base_url = StrictCharField(max_length=500, validators=[HTTP_URL_VALIDATOR])
    api_key_env = StrictCharField(max_length=100, required=False, validators=[ENV_NAME_VALIDATOR])
    verdict_mode = StrictChoiceField(choices=Judge.VerdictMode.choices, required=False)


class OneSampleJudgeRegisterSerializer(_JudgeRegisterBase):
    """LIMA's pairwise prompt or Fail / Pass / Excellent: one answer per output."""

    template = StrictChoiceField(choices=["lima_pairwise", "fail_pass_excellent"])
    params = OneSampleJudgeParams(required=False)


class LikertJudgeRegisterSerializer(_JudgeRegisterBase):
    """LIMA's 1-6 helpfulness prompt, several samples averaged."""

    template = StrictChoiceField(choices=["lima_likert"])
    params = LikertJudgeParams(required=False)


class CustomJudgeRegisterSerializer(_JudgeRegisterBase):
    """Your own template: {prompt} with {response_a} and {response_b} (pairwise), or
    {prompt} with {response} (single output). Slots, scale, choices and samples that do not
    fit together answer 409 naming the field."""

    template = StrictChoiceField(choices=["custom"])
    custom_template = StrictCharField(validators=[NOT_BLANK_VALIDATOR])
    params = CustomJudgeParams(required=False)


JUDGE_REGISTER_VARIANTS: dict[str, type[StrictSerializer]] = {
    "lima_pairwise": OneSampleJudgeRegisterSerializer,
    "fail_pass_excellent": OneSampleJudgeRegisterSerializer,
    "lima_likert": LikertJudgeRegisterSerializer,
    "custom": CustomJudgeRegisterSerializer,
}
JudgeRegisterRequest = PolymorphicProxySerializer(
    component_name="JudgeRegister",
    serializers=JUDGE_REGISTER_VARIANTS,
    resource_type_field_name="template",
)


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


# --- judgments ------------------------------------------------------------------------


class JudgmentImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    judge_group = serializers.CharField()
    imported_from = serializers.CharField()
    changed_nothing = serializers.BooleanField()
    detail = serializers.CharField()


def discriminated(
    data: Any, field: str, variants: dict[str, type[StrictSerializer]]
) -> StrictSerializer:
    """The variant serializer that `data[field]` picks, bound to data; a missing or unknown
    value is a 400 naming the field (as the schema's discriminator says)."""
    if not isinstance(data, dict):
        raise serializers.ValidationError(["the body must be a JSON object"])
    value = data.get(field)
    if not isinstance(value, str) or value not in variants:
        raise serializers.ValidationError({field: [f"must be one of {list(variants)}"]})
    return variants[value](data=data)
