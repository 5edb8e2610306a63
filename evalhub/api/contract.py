"""The served OpenAPI schema as the contract for query parameters: the names each operation
documents, and the schema of each value, read from the schema itself so the two cannot
drift apart."""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema
from rest_framework.request import Request

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_NUMBER = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?([eE][-+]?[0-9]{1,3})?")


@functools.cache
def _query_parameters() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(OpenAPI path, method) -> {parameter name: its schema}, from the generated schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            found[(path, method.upper())] = {
                p["name"]: p.get("schema", {})
                for p in operation.get("parameters", [])
                if p.get("in") == "query"
            }
    return found


def _typed(raw: str, schema: dict[str, Any]) -> tuple[Any, str]:
    """The query string's value as the schema's type, or an error message."""
    kind = schema.get("type", "string")
    if kind == "integer":
        return (int(raw), "") if _INTEGER.fullmatch(raw) else (None, "must be a whole number")
    if kind == "number":
        return (float(raw), "") if _NUMBER.fullmatch(raw) else (None, "must be a number")
    if kind == "boolean":
        if raw in ("true", "false"):
            return raw == "true", ""
        return None, "must be true or false"
    return raw, ""


def query_problems(request: Request) -> dict[str, list[str]]:
    """{parameter: [message]} for each query parameter the operation's schema refuses."""
    match = request.resolver_match
    if match is None or not match.route:
        return {}
    path = "/" + _CONVERTER.sub(r"{\1}", match.route)
    documented = _query_parameters().get((path, request.method or "GET"))
    if documented is None:  # not an operation of the schema (e.g. the schema view itself)
        return {}
    problems: dict[str, list[str]] = {}
    for name in request.query_params:
        values = request.query_params.getlist(name)
        if name not in documented:
            allowed = ", ".join(sorted(documented)) or "none"
            problems[name] = [f"is not a parameter of this operation (it takes: {allowed})"]
            continue
        if len(values) > 1:
            problems[name] = ["is given more than once"]
            continue
        schema = documented[name]
        if values[0] == "":
            problems[name] = ["must not be empty"]
            continue
        value, error = _typed(values[0], schema)
        if not error:
            found = next(jsonschema.Draft7Validator(schema).iter_errors(value), None)
            error = found.message if found is not None else ""
        if error:
            problems[name] = [error]
    return problems
