"""Prompt sets and prompts: the create request (rows in any accepted format) and the
answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evalhub.api.row_shapes import InvalidRows
from evalhub.api.rows import PROMPT_ROWS
from evalhub.api.strict import (
    StrictCharField,
    StrictSerializer,
    StrictSlugField,
)
from evalhub.importing import Row, RowProblem
from evalhub.prompts.models import Prompt, PromptSet


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
        if PromptSet.objects.filter(team=self.context["team"], slug=value).exists():
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
