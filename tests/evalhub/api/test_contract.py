"""Strict input, generic to every endpoint: query strings checked against the operation's
schema, pagination parameters, wrong JSON types, unknown fields; and what the schema states
(oneOf with discriminators, row shapes, links)."""

from __future__ import annotations

import pytest
import yaml

from evalhub.outputs.models import ModelEntry

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
