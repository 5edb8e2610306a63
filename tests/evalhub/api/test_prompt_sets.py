"""Prompt sets are created with their prompts in one request, through prompts_import."""

import pytest

from evalhub.prompts.models import Prompt, PromptSet

pytestmark = pytest.mark.django_db

PROMPTS = [
    {"id": "q1", "text": "What is 2+2?", "category": "math"},
    {"conversations": ["Hi there", "Hello!", "Tell me a joke"], "source": "lima"},
]


def test_it_creates_a_prompt_set_with_its_prompts(api):
    response = api.post(
        "/api/v1/prompt-sets/",
        {"slug": "mine", "name": "My prompts", "prompts": PROMPTS},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response["Location"] == "/api/v1/prompt-sets/mine/"
    assert response.json()["prompt_count"] == 2
    prompts = list(Prompt.objects.filter(prompt_set__slug="mine").order_by("position"))
    assert [(p.external_id, p.text) for p in prompts] == [
        ("q1", "What is 2+2?"),
        ("L2", "Tell me a joke"),
    ]
    assert prompts[1].context == [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello!"},
    ]


def test_it_lists_and_shows_prompt_sets_and_their_prompts(api, eval_set):
    listing = api.get("/api/v1/prompt-sets/").json()
    assert [(s["slug"], s["prompt_count"]) for s in listing["results"]] == [("eval", 3)]
    assert api.get("/api/v1/prompt-sets/eval/").json()["name"] == "Eval"
    prompts = api.get("/api/v1/prompt-sets/eval/prompts/?page_size=2").json()
    assert prompts["count"] == 3 and len(prompts["results"]) == 2
    assert prompts["results"][0]["external_id"] == "q1"
    assert prompts["next"].endswith("page=2&page_size=2")
    assert api.get("/api/v1/prompt-sets/nope/prompts/").status_code == 404


def test_a_bad_prompt_names_its_row_and_nothing_is_written(api):
    response = api.post(
        "/api/v1/prompt-sets/",
        {
            "slug": "bad",
            "prompts": [{"id": "a", "text": "ok"}, {"id": "b"}, {"id": "a", "text": "x"}],
        },
        format="json",
    )
    # A row outside its shape is a 400; an id given twice is a 409.
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_rows"
    assert [(p["row"], p["field"]) for p in body["problems"]] == [(2, "text")]
    response = api.post(
        "/api/v1/prompt-sets/",
        {"slug": "bad", "prompts": [{"id": "a", "text": "ok"}, {"id": "a", "text": "x"}]},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert [(p["row"], p["field"]) for p in body["problems"]] == [(2, "id")]
    assert "duplicate id 'a'" in body["problems"][0]["message"]
    assert not PromptSet.objects.filter(slug="bad").exists()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"slug": "has space", "prompts": PROMPTS}, "invalid", "slug"),
        ({"slug": "ok"}, "invalid", "prompts"),
        ({"slug": "ok", "prompts": []}, "invalid", "prompts"),
        ({"slug": "ok", "prompts": PROMPTS, "name": 7}, "invalid", "name"),
        ({"slug": "ok", "prompts": PROMPTS, "extra": 1}, "invalid", "extra"),
        ({"slug": "ok", "prompts": ["not an object"]}, "invalid_rows", ""),
        ({"slug": "ok", "prompts": [{"id": 1, "text": "x"}]}, "invalid_rows", "id"),
    ],
)
def test_a_malformed_request_names_the_field(api, body, code, field):
    response = api.post("/api/v1/prompt-sets/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in [p["field"] for p in response.json()["problems"]]


def test_an_existing_slug_is_refused(api, eval_set):
    response = api.post("/api/v1/prompt-sets/", {"slug": "eval", "prompts": PROMPTS}, format="json")
    assert response.status_code == 409
    assert response.json()["problems"][0]["field"] == "slug"
    assert eval_set.prompts.count() == 3


def test_invalid_json_is_a_400_in_the_error_shape(api):
    response = api.post("/api/v1/prompt-sets/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "line 1 column 2" in response.json()["detail"]


def test_a_nul_character_is_refused_before_the_database(api):
    body = {"slug": "nul", "prompts": [{"id": "a", "text": "bad\u0000text"}]}
    response = api.post("/api/v1/prompt-sets/", body, format="json")
    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == "prompts.0.text"


def test_an_ordinary_body_is_capped_at_data_upload_max_memory_size(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"slug": "big", "prompts": [{"id": "a", "text": "x" * 2000}]}
    response = api.post("/api/v1/prompt-sets/", body, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_form_body_is_415(api):
    response = api.post("/api/v1/prompt-sets/", {"slug": "x"})  # multipart
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
