"""Shared parts of the API's shapes: field validators, the error body, and picking a
request's variant by its discriminator."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from evalhub.api.row_shapes import NOT_BLANK
from evalhub.api.strict import (
    SchemaPattern,
    StrictSerializer,
)

# Text that is not only whitespace; an http(s) URL (no brackets in the host part, so no IPv6
# literal: URL parsers refuse a stray one); an environment variable's name.
NOT_BLANK_VALIDATOR = SchemaPattern(NOT_BLANK, "must not be blank")
HTTP_URL_VALIDATOR = SchemaPattern(
    "^https?://[^\\u0000-\\u0020/?#\\[\\]@]+([/?#][^\\u0000-\\u0020]*)?$",
    "must be an http(s) URL",
)
ENV_NAME_VALIDATOR = SchemaPattern("^[A-Za-z_][A-Za-z0-9_]*$", "must be a variable name")


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="1-based row (line) or null")
    field = serializers.CharField(allow_blank=True, help_text="dotted path, or '' for all")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    problems = ProblemSerializer(many=True)


def discriminated(
    data: Any,
    field: str,
    variants: dict[str, type[StrictSerializer]],
    context: dict[str, Any] | None = None,
) -> StrictSerializer:
    """The variant serializer that `data[field]` picks, bound to data and `context` (the
    caller's {"team": ...} where it names rows of the team); a missing or unknown value is
    a 400 naming the field (as the schema's discriminator says)."""
    if not isinstance(data, dict):
        raise serializers.ValidationError(["the body must be a JSON object"])
    value = data.get(field)
    if not isinstance(value, str) or value not in variants:
        raise serializers.ValidationError({field: [f"must be one of {list(variants)}"]})
    return variants[value](data=data, context=context or {})
