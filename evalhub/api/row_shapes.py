"""The machinery of the bulk bodies' row shapes: a field (Prop), one accepted format
(RowShape), an endpoint's set of formats (RowFormats) and its request body schema.

Each shape is declared once and gives both its OpenAPI schema and the server's check, so
the two agree. A row's shape is picked by the key that names its format (`prompt_id`,
`external_id`, `instruction`, ...); every shape allows no other keys, so the formats are
mutually exclusive (`oneOf`). Rows are checked here, fast, before the service sees them:
a row that breaks its shape is a 400 naming the row and field (InvalidRows). The concrete
formats are in evalhub.api.rows and evalhub.api.arena_rows."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from evalhub.api.strict import JSON_OBJECT, JSON_VALUE, NO_NUL, free_json_problem
from evalhub.importing import InputError, Row, RowProblem

BIGINT_MAX = 2**63 - 1
# Text that is not only whitespace (services strip it), and a name that slugifies to
# something (it holds an ASCII letter or digit).
# Whitespace is spelled out (str.isspace's set): regex engines disagree on what \s holds.
NOT_BLANK = (
    "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680"
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
)
NAMES_A_MODEL = "^[^\\u0000]*[A-Za-z0-9][^\\u0000]*$"


class InvalidRows(InputError):
    """Rows that break their shape: a 400 (InputError, raised by services after the shape
    was right, is a 409)."""


def unstorable_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string PostgreSQL cannot store (a NUL character or a
    lone surrogate), or None. Keys count as strings too."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if unstorable_path(key, where) is not None:
                return where
            found = unstorable_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class Prop:
    kind: str  # string | integer | number | object | strings | turns | any
    required: bool = False
    description: str = ""
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = NO_NUL
    enum: tuple[str, ...] | None = None
    min_items: int | None = None

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any]
        if self.kind == "object":
            s = {"$ref": f"#/components/schemas/{JSON_OBJECT}"}
            return {"allOf": [s], "description": self.description} if self.description else s
        if self.kind == "any":
            s = {"$ref": f"#/components/schemas/{JSON_VALUE}"}
            return {"allOf": [s], "description": self.description} if self.description else s
        if self.kind == "strings":
            item: dict[str, Any] = {"type": "string"}
            if self.enum:
                item["enum"] = list(self.enum)
            else:
                item["pattern"] = self.pattern or NO_NUL
            s = {"type": "array", "items": item}
            if self.min_items:
                s["minItems"] = self.min_items
        elif self.kind == "turns":
            s = {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "role": {"type": "string", "enum": ["user", "assistant"]},
                        "content": {"type": "string", "pattern": NO_NUL},
                    },
                    "required": ["role", "content"],
                    "additionalProperties": False,
                },
            }
        else:
            s = {"type": self.kind}
            if self.enum:
                s["enum"] = list(self.enum)
            elif self.kind == "string" and self.pattern:
                s["pattern"] = self.pattern
        for key, value in (
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
        ):
            if value is not None:
                s[key] = value
        if self.description:
            s["description"] = self.description
        return s

    def problem(self, value: Any) -> str | None:
        kind = self.kind
        if kind == "any":
            return free_json_problem(value)
        if kind == "string":
            if not isinstance(value, str):
                return "must be a string"
            return self._text_problem(value)
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return "must be an integer"
            return self._range_problem(value)
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return "must be a number"
            if not math.isfinite(value):
                return "must be a finite number"
            return self._range_problem(value)
        if kind == "object":
            if not isinstance(value, dict):
                return "must be an object"
            return free_json_problem(value)
        if kind == "strings":
            if not isinstance(value, list):
                return "must be a list of strings"
            if self.min_items and len(value) < self.min_items:
                return f"must have at least {self.min_items} item(s)"
            for item in value:
                if not isinstance(item, str):
                    return "must be a list of strings"
                found = self._text_problem(item)
                if found:
                    return f"each item {found}"
            return None
        if kind == "turns":
            ok = isinstance(value, list) and all(
                isinstance(t, dict)
                and set(t) == {"role", "content"}
                and t["role"] in ("user", "assistant")
                and isinstance(t["content"], str)
                and "\x00" not in t["content"]
                for t in value
            )
            return None if ok else "must be a list of {role: user|assistant, content} turns"
        raise AssertionError(kind)

    def _text_problem(self, value: str) -> str | None:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "holds a lone surrogate, which cannot be stored"
        if self.enum is not None:
            return None if value in self.enum else f"must be one of {list(self.enum)}"
        if self.min_length is not None and len(value) < self.min_length:
            return f"must have at least {self.min_length} character(s)"
        if self.max_length is not None and len(value) > self.max_length:
            return f"must have at most {self.max_length} characters"
        if "\x00" in value:
            return "must not contain a NUL character"
        if self.pattern and not _compiled(self.pattern).search(value):
            if self.pattern == NOT_BLANK:
                return "must not be blank"
            if self.pattern == NAMES_A_MODEL:
                return "must hold a letter or digit (it is made a slug)"
            return "must not contain a NUL character"
        return None

    def _range_problem(self, value: float) -> str | None:
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {self.maximum:g}"
        return None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


@dataclass(frozen=True)
class RowShape:
    name: str  # the schema component
    key: str  # the key whose presence picks this shape
    description: str
    props: dict[str, Prop]
    also_keys: tuple[str, ...] = ()  # other keys that pick it

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": self.description,
            "properties": {name: prop.schema() for name, prop in self.props.items()},
            "required": [name for name, prop in self.props.items() if prop.required],
            "additionalProperties": False,
        }

    def problems(self, number: int, row: dict[str, Any]) -> list[RowProblem]:
        found = [
            RowProblem(number, "is not a field of this row format", name)
            for name in row
            if name not in self.props
        ]
        for name, prop in self.props.items():
            if name not in row:
                if prop.required:
                    found.append(RowProblem(number, "is missing", name))
                continue
            message = prop.problem(row[name])
            if message:
                found.append(RowProblem(number, message, name))
        return found


@dataclass(frozen=True)
class RowFormats:
    """The shapes one bulk body accepts; the first whose key a row holds is its shape."""

    shapes: tuple[RowShape, ...]
    what: str  # e.g. "name the prompt by prompt_id, external_id or instruction"
    what_field: str
    components: dict[str, dict[str, Any]] = field(default_factory=dict)

    def shape_of(self, row: dict[str, Any]) -> RowShape | None:
        for shape in self.shapes:
            if shape.key in row or any(k in row for k in shape.also_keys):
                return shape
        return None

    def check(self, rows: list[Row], *, field_prefix: str = "") -> None:
        """Raises InvalidRows naming every bad row (up to the first 1,000 problems)."""
        problems: list[RowProblem] = []
        for number, row in rows:
            shape = self.shape_of(row)
            if shape is None:
                found = [RowProblem(number, self.what, self.what_field)]
            else:
                found = shape.problems(number, row)
            for p in found:
                p.field = f"{field_prefix}{p.field}" if p.field else field_prefix.rstrip(".")
            problems += found
            if len(problems) >= 1000:
                break
        if problems:
            raise InvalidRows(problems)

    def one_of(self) -> dict[str, Any]:
        return {"oneOf": [{"$ref": f"#/components/schemas/{s.name}"} for s in self.shapes]}

    def schemas(self) -> dict[str, dict[str, Any]]:
        return {s.name: s.schema() for s in self.shapes}


def bulk_body_schema(formats: RowFormats) -> dict[str, dict[str, Any]]:
    """The request body of a bulk endpoint: a JSON array of rows, or JSON Lines (one row)."""
    return {
        "application/json": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50_000,
            "items": formats.one_of(),
        },
        "application/x-ndjson": formats.one_of(),
    }
