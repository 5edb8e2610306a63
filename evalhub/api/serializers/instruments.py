"""Instruments: a version as answered, the definition as requested (all fields, or some
for an edit), and a field naming one by slug."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evalhub.api.serializers.common import NOT_BLANK_VALIDATOR
from evalhub.api.strict import (
    SLUG_PATTERN,
    SchemaPattern,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    StrictSlugField,
)
from evalhub.instruments.models import Instrument


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
        found = instrument_latest(team=self.context["team"], slug=data)
        if found is None:
            self.fail("does_not_exist", slug=data)
        return found

    def to_representation(self, value: Instrument) -> str:
        return value.slug
