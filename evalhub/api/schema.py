"""The OpenAPI schema states what the server enforces (drf-spectacular, plus these rules):

- a request built from a strict serializer (evalhub.api.strict) allows no other keys
  (`additionalProperties: false`), as the server refuses them;
- request strings cannot hold a NUL character, which PostgreSQL cannot store, and neither
  can the keys of a request's JSON object (`x-propertyNames`: OpenAPI 3.0.3 has no
  `propertyNames`, so the key rule is a vendor extension plus a sentence of description);
- string query parameters cannot be empty, as the server refuses empty filters;
- responses carry OpenAPI links, so a client (and schemathesis's stateful phase) can chain
  prompt set -> outputs -> study -> launch -> judgments -> results.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema

from evalhub.api.arena_rows import ARENA_ROWS
from evalhub.api.rows import JUDGMENT_ROWS, OUTPUT_ROWS, PROMPT_ROWS
from evalhub.api.strict import (
    JSON_COMPONENTS,
    JSON_OBJECT,
    KEY_RULE,
    KEY_RULE_WORDS,
    NO_NUL,
    StrictMixin,
)


class StrictAutoSchema(AutoSchema):
    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictMixin):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A field with its own pattern (evalhub.api.strict.SchemaPattern) states it instead.
        own_pattern = any(isinstance(v, RegexValidator) for v in getattr(field, "validators", []))
        if direction == "request" and isinstance(schema, dict) and not own_pattern:
            _forbid_nul(schema)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        # drf-spectacular adds an "" alternative to a blankable string with a pattern; ours
        # already matches "", and a oneOf whose branches both match "" would refuse it.
        branches = schema.get("oneOf")
        if (
            branches
            and len(branches) == 2
            and branches[1] == {"type": "string", "maxLength": 0}
            and branches[0].get("pattern") == NO_NUL
            and not {"minLength", "format"} & set(branches[0])
        ):
            schema.pop("oneOf")
            schema.update(branches[0])


def _forbid_nul(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & set(schema)):
        schema["pattern"] = NO_NUL
    elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        _forbid_nul(schema["items"])
    elif schema.get("type") == "object" and schema.get("additionalProperties") in (True, {}):
        # A free-form object (a DictField): any JSON inside, but storable.
        schema.clear()
        schema["$ref"] = f"#/components/schemas/{JSON_OBJECT}"
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        # A map (a DictField of typed values): its keys are storable strings too, as the
        # JSON parser refuses a NUL in any key (evalhub.api.parsers).
        schema.setdefault(KEY_RULE, {"pattern": NO_NUL})
        words = schema.get("description", "")
        if KEY_RULE_WORDS not in words:
            schema["description"] = f"{words} {KEY_RULE_WORDS}".strip()


# --- postprocessing -----------------------------------------------------------------------

# (path, method, status) -> {link name: (target path, target method, parameters, body)}.
# Expressions follow OpenAPI's runtime expression syntax.
_SLUG = "$response.body#/slug"
_PATH_SLUG = "$request.path.slug"
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str], Any]]] = {}


def _link(source: tuple[str, str, tuple[str, ...]], **targets: tuple) -> None:
    path, method, statuses = source
    for status in statuses:
        LINKS.setdefault((path, method, status), {}).update(targets)


V1 = "/api/v1"
_link(
    (f"{V1}/prompt-sets/", "post", ("201",)),
    GetPromptSet=(f"{V1}/prompt-sets/{{slug}}/", "get", {"slug": _SLUG}, None),
    ListPrompts=(f"{V1}/prompt-sets/{{slug}}/prompts/", "get", {"slug": _SLUG}, None),
    SubmitOutputs=(f"{V1}/prompt-sets/{{slug}}/outputs/", "post", {"slug": _SLUG}, None),
    ListOutputs=(f"{V1}/prompt-sets/{{slug}}/outputs/", "get", {"slug": _SLUG}, None),
    CreateStudy=(f"{V1}/studies/", "post", {}, {"prompt_set": _SLUG}),
    StartGeneration=(f"{V1}/generation-runs/", "post", {}, {"prompt_set": _SLUG}),
)
_link(
    (f"{V1}/models/", "post", ("200", "201")),
    GetModel=(f"{V1}/models/{{slug}}/", "get", {"slug": _SLUG}, None),
    CreateStudy=(f"{V1}/studies/", "post", {}, {"target_model": _SLUG}),
    StartGeneration=(f"{V1}/generation-runs/", "post", {}, {"model": _SLUG}),
)
_link(
    (f"{V1}/prompt-sets/{{slug}}/outputs/", "post", ("200", "201")),
    ListOutputs=(
        f"{V1}/prompt-sets/{{slug}}/outputs/",
        "get",
        {"slug": "$request.path.slug"},
        None,
    ),
    CreateStudy=(f"{V1}/studies/", "post", {}, {"prompt_set": "$request.path.slug"}),
)
_STUDY_NEXT = {
    "GetStudy": (f"{V1}/studies/{{slug}}/", "get", {"slug": _SLUG}, None),
    "LaunchStudy": (f"{V1}/studies/{{slug}}/launch/", "post", {"slug": _SLUG}, None),
    "ImportJudgments": (f"{V1}/studies/{{slug}}/judgments/import/", "post", {"slug": _SLUG}, None),
    "GetResults": (f"{V1}/studies/{{slug}}/results/", "get", {"slug": _SLUG}, None),
    "ExportJudgments": (f"{V1}/studies/{{slug}}/judgments/", "get", {"slug": _SLUG}, None),
    "CloseStudy": (f"{V1}/studies/{{slug}}/close/", "post", {"slug": _SLUG}, None),
    "StartJudgeRun": (f"{V1}/judge-runs/", "post", {}, {"study": _SLUG}),
}
_link((f"{V1}/studies/", "post", ("201",)), **_STUDY_NEXT)
_link((f"{V1}/studies/{{slug}}/launch/", "post", ("200",)), **_STUDY_NEXT)
_link(
    (f"{V1}/studies/{{slug}}/judgments/import/", "post", ("200", "201")),
    GetResults=(f"{V1}/studies/{{slug}}/results/", "get", {"slug": "$request.path.slug"}, None),
    ExportJudgments=(
        f"{V1}/studies/{{slug}}/judgments/",
        "get",
        {"slug": "$request.path.slug"},
        None,
    ),
)
_link(
    (f"{V1}/judges/", "post", ("200", "201")),
    StartJudgeRun=(f"{V1}/judge-runs/", "post", {}, {"judge": _SLUG}),
)
_JOB_NEXT = {
    "GetJob": (f"{V1}/jobs/{{job_id}}/", "get", {"job_id": "$response.body#/id"}, None),
    "CancelJob": (f"{V1}/jobs/{{job_id}}/cancel/", "post", {"job_id": "$response.body#/id"}, None),
}
_link((f"{V1}/judge-runs/", "post", ("202",)), **_JOB_NEXT)
_link((f"{V1}/generation-runs/", "post", ("202",)), **_JOB_NEXT)


# Request examples: the README's walkthrough (schemathesis's examples phase sends them).
EXAMPLES: dict[tuple[str, str], Any] = {
    (f"{V1}/prompt-sets/", "post"): {
        "slug": "demo",
        "name": "Demo prompts",
        "prompts": [
            {"id": "q1", "text": "How do I boil an egg?", "category": "advice"},
            {"id": "q2", "text": "Write a haiku about the sea.", "category": "creative"},
        ],
    },
    (f"{V1}/models/", "post"): {"slug": "my-model", "kind": "external"},
    (f"{V1}/studies/", "post"): {
        "slug": "demo-study",
        "name": "Demo",
        "kind": "pairwise",
        "prompt_set": "demo",
        "target_model": "my-model",
        "baselines": ["baseline-7b"],
        "raters_per_item": 3,
    },
    (f"{V1}/judges/", "post"): {
        "slug": "tiny-judge",
        "model": "tiny",
        "base_url": "http://127.0.0.1:8001/v1",
        "template": "lima_pairwise",
    },
    (f"{V1}/judge-runs/", "post"): {"judge": "tiny-judge", "study": "demo-study"},
    (f"{V1}/generation-runs/", "post"): {"model": "my-model", "prompt_set": "demo"},
}


def postprocess_contract(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Adds the storable-JSON components, non-empty string query parameters and links."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.update(JSON_COMPONENTS)
    for formats in (PROMPT_ROWS, OUTPUT_ROWS, JUDGMENT_ROWS, ARENA_ROWS):
        components.update(formats.schemas())
    paths = result.get("paths", {})
    for operations in paths.values():
        for operation in operations.values():
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True  # an empty body is refused
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
                    if not ({"enum", "pattern", "format"} & set(schema)):
                        schema["pattern"] = NO_NUL
    for (path, method), example in EXAMPLES.items():
        body = paths.get(path, {}).get(method, {}).get("requestBody", {})
        for media_type in body.get("content", {}).values():
            media_type["example"] = example
    for (path, method, status), targets in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        links = response.setdefault("links", {})
        for name, (target_path, target_method, parameters, body) in targets.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is None:
                continue
            link: dict[str, Any] = {"operationId": target["operationId"]}
            if parameters:
                link["parameters"] = parameters
            if body is not None:
                link["requestBody"] = body
            links[name] = link
    return result
