"""Strict request fields and serializers: a value of the wrong JSON type is refused, never
coerced (DRF's own fields turn 0 into "0", "3" into 3 and "yes" into True), and a key the
schema does not name is refused too. The schema generator (evalhub.api.schema) marks every
request built from these as `additionalProperties: false`, so the schema and the server agree.

New API serializers subclass `StrictSerializer` or `StrictModelSerializer`."""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

# Validation error codes meaning "well-formed, but the stored data says no": the exception
# handler answers 409 when every problem of a request has one of them (evalhub.api.errors).
CONFLICT_CODES = frozenset({"does_not_exist", "unique", "conflict"})

NO_NUL = "^[^\\u0000]*$"
# OpenAPI 3.0.3 has no `propertyNames` (JSON Schema's key rule): the schema states the rule on
# keys under this vendor extension, and in words in the object's description.
KEY_RULE = "x-propertyNames"
KEY_RULE_WORDS = "No key may hold a NUL character."

# A JSON value with no NUL character in any string or key (PostgreSQL's jsonb refuses one).
JSON_VALUE = "StorableJsonValue"
JSON_OBJECT = "StorableJsonObject"
JSON_COMPONENTS: dict[str, Any] = {
    JSON_VALUE: {
        "description": "Any JSON value; no string or key may hold a NUL character.",
        "nullable": True,
        "anyOf": [
            {"type": "string", "pattern": NO_NUL},
            {"type": "number"},
            {"type": "boolean"},
            # An array holds no array directly: client generators cannot follow an array
            # that refers back to this union, so the schema and the server both refuse one.
            {
                "type": "array",
                "items": {
                    "nullable": True,
                    "anyOf": [
                        {"type": "string", "pattern": NO_NUL},
                        {"type": "number"},
                        {"type": "boolean"},
                        {"$ref": f"#/components/schemas/{JSON_OBJECT}"},
                    ],
                },
            },
            {"$ref": f"#/components/schemas/{JSON_OBJECT}"},
        ],
    },
    JSON_OBJECT: {
        "type": "object",
        "description": "A JSON object; no string or key may hold a NUL character.",
        KEY_RULE: {"pattern": NO_NUL},
        "additionalProperties": {"$ref": f"#/components/schemas/{JSON_VALUE}"},
    },
}


def _type_error(field: serializers.Field, expected: str) -> None:
    raise serializers.ValidationError(f"must be {expected}", code="invalid_type")


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)  # what was sent is what is kept
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            _type_error(self, "a string")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            _type_error(self, f"one of {sorted(map(str, self.choices))}")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            _type_error(self, "an integer")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            _type_error(self, "a number")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            _type_error(self, "true or false")
        return data


class SchemaPattern(RegexValidator):
    """A regex validator that reads its pattern as JSON Schema does: a final `$` is the end
    of the text (Python's `$` also matches before a trailing newline)."""

    def __init__(self, regex: str, message: str) -> None:
        super().__init__(regex, message)
        self._check = re.compile(regex[:-1] + r"\Z" if regex.endswith("$") else regex)

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str) or not self._check.search(value):
            raise ValidationError(self.message, code=self.code)


SLUG_PATTERN = "^[-a-zA-Z0-9_]+$"


class StrictSlugField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(SchemaPattern(SLUG_PATTERN, "must be letters, digits, - or _"))


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            _type_error(self, "a string")
        return super().to_internal_value(data)


def free_json_problem(value: Any, path: str = "") -> str | None:
    """What breaks the schema's StorableJsonValue in a free-form JSON value, as
    "path: message", or None: a NUL character or lone surrogate in a string or key, or an
    array directly inside an array."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{path}: holds a NUL character".lstrip(": ")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{path}: holds a lone surrogate".lstrip(": ")
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = free_json_problem(key, where) or free_json_problem(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = f"{path}.{index}" if path else str(index)
            if isinstance(item, list):
                return f"{where}: an array may not hold an array directly"
            found = free_json_problem(item, where)
            if found:
                return found
    return None


class StrictJSONObjectField(serializers.DictField):
    """Any JSON object the schema's StorableJsonObject allows (free_json_problem)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        problem = free_json_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A JSON array of references (DRF's own takes any iterable, an object included)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            _type_error(self, "a list")
        return super().to_internal_value(data)


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """A row named by its slug. An unknown slug is a 409 (code does_not_exist), not a 400:
    the request is well-formed, the row is just not there."""

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> StrictManyRelatedField:
        many = {key: kwargs[key] for key in kwargs if key in MANY_RELATION_KWARGS}
        return StrictManyRelatedField(child_relation=cls(*args, **kwargs), **many)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            _type_error(self, "a string (a slug)")
        return super().to_internal_value(data)


class StrictMixin:
    """Refuses keys the serializer does not declare (or declares read-only), naming each."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}  # type: ignore[attr-defined]
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["is not a field of this request"] for name in unknown},
                    code="unknown_field",
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.URLField: StrictURLField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_choice_field = StrictChoiceField
    serializer_related_field = serializers.PrimaryKeyRelatedField


class TeamSlugRelatedField(StrictSlugRelatedField):
    """A row of the caller's team named by its slug. The rows come from `selector(team=...)`
    with the serializer's context["team"] (a KeyError when a view forgets to pass it), so
    another team's slug is as unknown as one that does not exist (409). `model` only tells
    the schema what the slug names."""

    def __init__(self, *, selector: Any, model: type[models.Model], **kwargs: Any) -> None:
        self.selector = selector
        kwargs.setdefault("slug_field", "slug")
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self) -> Any:
        return self.selector(team=self.context["team"])
