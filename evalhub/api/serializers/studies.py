"""Studies: as answered, and the create request (pairwise or single-output variants)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from evalhub.api.serializers.common import NOT_BLANK_VALIDATOR
from evalhub.api.serializers.instruments import InstrumentField
from evalhub.api.strict import (
    SLUG_PATTERN,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictManyRelatedField,
    StrictSerializer,
    StrictSlugField,
    TeamSlugRelatedField,
)
from evalhub.instruments.definitions import STUDY_KINDS
from evalhub.instruments.models import Instrument
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets
from evalhub.studies.models import Judge, Study
from evalhub.studies.selectors import team_judges


class StudySerializer(serializers.ModelSerializer):
    """A study, as the API answers it."""

    prompt_set = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    target_model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    baselines = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)
    judges = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)
    crowd_code = serializers.CharField(
        read_only=True,
        help_text="What the crowd link names the study by: /s/<crowd_code>/ (live studies: "
        "/live/<crowd_code>/); it reveals neither the team nor the slug.",
    )
    item_count = serializers.SerializerMethodField()
    instrument = InstrumentField(read_only=True, allow_null=True)
    instrument_version = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "slug", "crowd_code", "name", "kind", "instrument", "instrument_version", "status",
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
    prompt_set = TeamSlugRelatedField(selector=team_prompt_sets, model=PromptSet)
    target_model = TeamSlugRelatedField(selector=team_models, model=ModelEntry)
    judges = TeamSlugRelatedField(selector=team_judges, model=Judge, many=True, required=False)
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
        if Study.objects.filter(team=self.context["team"], slug=value).exists():
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
        child_relation=TeamSlugRelatedField(selector=team_models, model=ModelEntry),
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
