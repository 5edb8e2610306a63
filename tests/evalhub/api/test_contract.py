"""Strict input, generic to every endpoint: query strings checked against the operation's
schema, pagination parameters, wrong JSON types, unknown fields; and what the schema states
(oneOf with discriminators, row shapes, links)."""

from __future__ import annotations

import pytest
import yaml

from evalhub.outputs.models import ModelEntry
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page_size=null", "page_size", "must be a whole number"),
        ("page_size=0", "page_size", "0 is less than the minimum of 1"),
        ("page_size=1001", "page_size", "1001 is greater than the maximum of 1000"),
        ("page=abc", "page", "must be a whole number"),
        ("status=", "status", "must not be empty"),
        ("status=running&status=queued", "status", "is given more than once"),
        ("status=sleeping", "status", "'sleeping' is not one of"),
        ("colour=red", "colour", "is not a parameter of this operation"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(api, query, field, message):
    response = api.get(f"/api/v1/jobs/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert [p["field"] for p in body["problems"]] == [field]
    assert body["problems"][0]["message"].startswith(message)


def test_a_page_past_the_last_is_404_and_good_parameters_pass(api):
    assert api.get("/api/v1/jobs/?page=1&page_size=5&status=queued").status_code == 200
    assert api.get("/api/v1/jobs/?page=2").status_code == 404


def test_empty_filters_are_refused_on_every_list(api, eval_set):
    for url in ("/api/v1/prompt-sets/eval/outputs/?model=", "/api/v1/models/?page_size="):
        response = api.get(url)
        assert response.status_code == 400, url


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "m", "kind": "external", "description": 0}, "description"),
        ({"slug": 7, "kind": "external"}, "slug"),
        ({"slug": "m", "kind": "local", "model_path": "p", "tensor_parallel_size": "2"},
         "tensor_parallel_size"),
        ({"slug": "m", "kind": "local", "model_path": "p", "tensor_parallel_size": 2.0},
         "tensor_parallel_size"),
        ({"slug": "m", "kind": "external", "created_at": "now"}, "created_at"),
        ({"slug": "m", "kind": 1}, "kind"),
    ],
)  # fmt: skip
def test_wrong_types_and_unknown_fields_are_refused_never_coerced(api, body, field):
    response = api.post("/api/v1/models/", body, format="json")
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == [field]
    assert not ModelEntry.objects.exists()


def test_a_custom_judge_needs_its_template_and_the_schema_says_so(api, anon_api):
    body = {"slug": "j", "model": "m", "base_url": "http://x/v1", "template": "custom"}
    response = api.post("/api/v1/judges/", body, format="json")
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == ["custom_template"]
    schemas = yaml.safe_load(anon_api.get("/api/schema/").content)["components"]["schemas"]
    judge = schemas["JudgeRegisterRequest"]
    assert judge["discriminator"]["propertyName"] == "template"
    assert judge["discriminator"]["mapping"]["custom"].endswith("CustomJudgeRegisterRequest")
    assert "custom_template" in schemas["CustomJudgeRegisterRequest"]["required"]
    assert schemas["CustomJudgeRegisterRequest"]["additionalProperties"] is False
    study = schemas["StudyCreateRequest"]
    assert set(study["discriminator"]["mapping"]) == {"pairwise", "absolute", "dialogue", "likert"}
    assert schemas["PairwiseStudyCreateRequest"]["properties"]["baselines"]["minItems"] == 1
    assert "baselines" not in schemas["SingleOutputStudyCreateRequest"]["properties"]


def test_the_schema_states_row_shapes_errors_and_links(anon_api):
    schema = yaml.safe_load(anon_api.get("/api/schema/").content)
    outputs = schema["paths"]["/api/v1/prompt-sets/{slug}/outputs/"]["post"]
    rows = outputs["requestBody"]["content"]["application/json"]["schema"]["items"]["oneOf"]
    assert [r["$ref"].rsplit("/", 1)[1] for r in rows] == [
        "OutputRowByPromptId", "OutputRowByExternalId", "OutputRowAlpacaEval"
    ]  # fmt: skip
    assert {"400", "409", "413", "415"} <= set(outputs["responses"])
    created = schema["paths"]["/api/v1/prompt-sets/"]["post"]["responses"]["201"]["links"]
    assert created["CreateStudy"]["requestBody"] == {"prompt_set": "$response.body#/slug"}
    launched = schema["paths"]["/api/v1/studies/{slug}/launch/"]["post"]["responses"]["200"]
    assert launched["links"]["ImportJudgments"]["parameters"] == {"slug": "$response.body#/slug"}


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_throttled_operation_documents_its_429(anon_api):
    from django.urls import resolve

    schema = yaml.safe_load(anon_api.get("/api/schema/").content)
    checked = 0
    for path, method, operation in _operations(schema):
        url = path.replace("{slug}", "x").replace("{job_id}", "1").replace("{version}", "1")
        view = resolve(url).func.view_class
        if not view.throttle_classes:  # every API view has the token throttle (settings)
            continue
        checked += 1
        assert "429" in operation["responses"], (method, path)
        assert "Retry-After" in operation["responses"]["429"]["description"], (method, path)
    assert checked == sum(1 for _ in _operations(schema))


def test_page_numbers_state_their_maximum_and_out_of_range_answers_are_documented(
    api, anon_api, make_study
):
    from evalhub.api.pagination import MAX_PAGE, MAX_PAGE_SIZE

    schema = yaml.safe_load(anon_api.get("/api/schema/").content)
    make_study(prompts=2, slug="paged")
    lists = 0
    for path, method, operation in _operations(schema):
        params = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        if "page" not in params:
            continue
        lists += 1
        assert params["page"]["minimum"] == 1 and params["page"]["maximum"] == MAX_PAGE, path
        assert params["page_size"]["maximum"] == MAX_PAGE_SIZE, path
        # Above the maximum: 400 naming `page`; past the last page: 404. Both documented.
        assert {"400", "404"} <= set(operation["responses"]), path
        url = path.replace("{slug}", "paged")
        if "{" in url or method != "get":
            continue
        if url.startswith("/api/v1/prompt-sets/paged/"):
            continue  # the study's prompt set has another slug; its lists page alike
        over = api.get(f"{url}?page={MAX_PAGE + 1}")
        assert over.status_code == 400, (url, over.content)
        assert [p["field"] for p in over.json()["problems"]] == ["page"], url
        assert api.get(f"{url}?page={MAX_PAGE}").status_code == 404, url
    assert lists >= 10


@pytest.mark.parametrize(
    ("url", "method", "body", "field"),
    [
        ("/api/v1/studies/keys/gold/", "patch", {"gold": {"q\x00": "target"}}, "gold"),
        ("/api/v1/judges/", "post",
         {"slug": "j", "model": "m", "base_url": "http://x/v1", "template": "custom",
          "custom_template": "Which is better? {instruction} {output_1} {output_2}",
          "params": {"scale": "pairwise", "choices": {"A\x00": "output_1"}}},
         "params.choices"),
        ("/api/v1/models/", "post",
         {"slug": "m", "kind": "external", "generation_config": {"top\x00p": 0.9}},
         "generation_config"),
    ],
)  # fmt: skip
def test_a_nul_in_a_json_objects_key_is_a_400_naming_the_field_and_key(
    api, make_study, url, method, body, field
):
    make_study(prompts=2, slug="keys")
    response = getattr(api, method)(url, body, format="json")
    assert response.status_code == 400, response.content
    (problem,) = response.json()["problems"]
    # The field, then the key that holds the NUL: "gold.q\x00"
    assert problem["field"].startswith(f"{field}.") and "\x00" in problem["field"], problem
    assert "NUL" in problem["message"]


def test_the_schema_states_the_key_rules_of_every_request_object(anon_api):
    from evalhub.api.strict import JSON_OBJECT, KEY_RULE, NO_NUL

    schema = yaml.safe_load(anon_api.get("/api/schema/").content)
    schemas = schema["components"]["schemas"]
    assert schemas[JSON_OBJECT][KEY_RULE] == {"pattern": NO_NUL}
    maps = []

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            extra = node.get("additionalProperties")
            if node.get("type") == "object" and extra not in (None, False):
                maps.append(where)
                assert node.get(KEY_RULE) == {"pattern": NO_NUL}, where
                assert "propertyNames" not in node, where  # not OpenAPI 3.0.3
                assert "NUL" in (node.get("description") or ""), where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    for name, component in schemas.items():
        if name.endswith("Request") or name in (JSON_OBJECT,):
            walk(component, name)
    assert "PatchedGoldRequest/properties/gold" in maps
    assert "CustomJudgeParamsRequest/properties/choices" in maps
