"""Outputs in bulk: JSON array or JSONL, matched by prompt id, external id or instruction."""

import json

import pytest

from evalhub.outputs.models import ModelEntry, Output
from tests.factories import ModelEntryFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/prompt-sets/eval/outputs/"


def jsonl(rows) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def test_alpacaeval_model_outputs_go_in_as_they_are(api, eval_set):
    rows = [
        {"instruction": f"Question {i}?", "output": f"**{i}**", "generator": "My Model 7B"}
        for i in (1, 2, 3)
    ]
    response = api.post(URL, json.dumps(rows), content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "created": 3,
        "unchanged": 0,
        "models_created": ["my-model-7b"],
        "changed_nothing": False,
        "detail": "Added 3 outputs (0 already there).",
    }
    out = Output.objects.get(model__slug="my-model-7b", prompt__external_id="q2")
    assert out.text == "**2**"


def test_jsonl_rows_match_by_prompt_id_and_external_id(api, eval_set):
    ModelEntryFactory(slug="m")
    q1 = eval_set.prompts.get(external_id="q1")
    body = jsonl(
        [
            {"prompt_id": q1.pk, "output": "one"},
            {"external_id": "q2", "output": "two", "sample_index": 1, "provenance": {"seed": 7}},
        ]
    )
    response = api.post(URL + "?model=m", body, content_type="application/x-ndjson")
    assert response.status_code == 201, response.json()
    assert list(Output.objects.order_by("prompt__position").values_list("text", "provenance")) == [
        ("one", {}),
        ("two", {"seed": 7}),
    ]
    listed = api.get(URL + "?model=m").json()
    assert [(o["prompt_external_id"], o["text"]) for o in listed["results"]] == [
        ("q1", "one"),
        ("q2", "two"),
    ]


def test_a_repeated_identical_submission_changes_nothing_and_says_so(api, eval_set):
    body = jsonl([{"external_id": "q1", "output": "4", "model": "m"}])
    first = api.post(URL, body, content_type="application/x-ndjson")
    again = api.post(URL, body, content_type="application/x-ndjson")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["changed_nothing"] is True
    assert again.json()["detail"] == "Nothing changed: all 1 outputs were already there."
    assert Output.objects.count() == 1


@pytest.mark.parametrize(
    ("rows", "status", "problems"),
    [
        ([{"external_id": "q1", "output": "a", "model": "m"},
          {"external_id": "q9", "output": "b", "model": "m"}],
         409, [(2, "external_id", "unknown prompt 'q9'")]),
        ([{"output": "a", "model": "m"}, {"external_id": "q1", "output": "b", "model": "m"}],
         400, [(1, "prompt", "name the prompt by prompt_id, external_id or instruction")]),
        ([{"instruction": "Question 1?", "output": "a", "generator": "m"},
          {"external_id": "q2", "output": "b", "model": "m"},
          {"external_id": "q1", "output": "c", "model": "m"}],
         409, [(3, "prompt", "duplicate of line 1 (same prompt, model and sample)")]),
        ([{"instruction": "Question 7?", "output": "a", "generator": "m"},
          {"prompt_id": 999999, "output": "b", "model": "m"}],
         409, [(1, "instruction", "no prompt has this exact text"),
               (2, "prompt_id", "unknown prompt id 999999 in this set")]),
        ([{"external_id": "q1", "model": "m"}], 400, [(1, "output", "is missing")]),
        ([{"external_id": "q1", "output": 0, "model": "m", "text": "t"}],
         400, [(1, "text", "is not a field of this row format"),
               (1, "output", "must be a string")]),
        ([{"prompt_id": "1", "output": "a", "model": "m"}],
         400, [(1, "prompt_id", "must be an integer")]),
    ],
)  # fmt: skip
def test_bad_rows_name_their_row_and_nothing_is_written(api, eval_set, rows, status, problems):
    # A row outside its format's shape is a 400; rows that do not fit the set are a 409.
    response = api.post(URL, json.dumps(rows), content_type="application/json")
    assert response.status_code == status
    body = response.json()
    assert body["code"] == ("invalid_rows" if status == 400 else "conflicting_rows")
    assert [(p["row"], p["field"], p["message"]) for p in body["problems"]] == problems
    assert not Output.objects.exists() and not ModelEntry.objects.exists()


def test_jsonl_rows_are_numbered_by_line(api, eval_set):
    body = '{"external_id": "q1", "output": "a", "model": "m"}\n\n{"external_id": "zz", "output": "b", "model": "m"}\n'
    response = api.post(URL, body, content_type="application/x-ndjson")
    assert [(p["row"], p["field"]) for p in response.json()["problems"]] == [(3, "external_id")]


def test_a_broken_line_is_named(api, eval_set):
    body = '{"external_id": "q1", "output": "a", "model": "m"}\n{oops\n'
    response = api.post(URL, body, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["problems"][0]["row"] == 2
    assert "not valid JSON" in response.json()["problems"][0]["message"]


def test_unknown_models_can_be_refused(api, eval_set):
    body = jsonl([{"external_id": "q1", "output": "a", "model": "ghost"}])
    response = api.post(
        URL + "?create_missing_models=false", body, content_type="application/x-ndjson"
    )
    assert response.status_code == 409
    assert response.json()["problems"][0] == {
        "row": 1,
        "field": "model",
        "message": "unknown model 'ghost'",
    }


def test_the_default_model_must_be_registered(api, eval_set):
    body = jsonl([{"external_id": "q1", "output": "a"}])
    response = api.post(URL + "?model=ghost", body, content_type="application/x-ndjson")
    assert response.status_code == 409
    assert response.json()["problems"][0]["field"] == "model"


def test_an_empty_body_is_400(api, eval_set):
    response = api.post(URL, "", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["problems"][0]["message"] == "the input is empty"


def test_an_unknown_prompt_set_is_404(api):
    response = api.post(
        "/api/v1/prompt-sets/nope/outputs/", jsonl([{"external_id": "q1", "output": "a", "model": "m"}]),
        content_type="application/x-ndjson",
    )  # fmt: skip
    assert response.status_code == 404


def test_more_than_the_row_limit_is_413(api, eval_set, settings):
    settings.API_BULK_MAX_ROWS = 2
    rows = [{"external_id": f"q{i}", "output": "a", "model": "m"} for i in (1, 2, 3)]
    response = api.post(URL, json.dumps(rows), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The body has 3 rows; the limit is 2 rows")
    assert not Output.objects.exists()


def test_more_than_the_byte_limit_is_413_without_reading_it(api, eval_set, settings):
    settings.API_BULK_MAX_BYTES = 100
    body = jsonl([{"external_id": "q1", "output": "x" * 200, "model": "m"}])
    response = api.post(URL, body, content_type="application/x-ndjson")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "limit is 100 bytes" in response.json()["detail"]


def test_the_bulk_limit_is_50_mb_not_the_form_limit(api, eval_set, settings):
    # 3 MB of output text is over Django's 2.5 MB form limit but well inside the bulk one.
    body = jsonl([{"external_id": "q1", "output": "x" * 3_000_000, "model": "m"}])
    assert settings.API_BULK_MAX_BYTES == 50 * 1024 * 1024
    response = api.post(URL, body, content_type="application/x-ndjson")
    assert response.status_code == 201
    assert len(Output.objects.get().text) == 3_000_000


def test_a_nul_character_names_its_row(api, eval_set):
    body = jsonl([{"external_id": "q1", "output": "ok", "model": "m"},
                  {"external_id": "q2", "output": "bad\u0000", "model": "m"}])  # fmt: skip
    response = api.post(URL, body, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {"row": 2, "field": "output", "message": "must not contain a NUL character"}
    ]


def test_a_body_that_is_not_utf8_is_400(api, eval_set):
    response = api.post(URL, b"\xff\xfe[]", content_type="application/json")
    assert response.status_code == 400
    assert "not UTF-8" in response.json()["detail"]
