"""Registering models of each kind (model_register)."""

import pytest

from evalhub.outputs.models import ModelEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "my-7b", "kind": "external"},
        {"slug": "tiny", "kind": "local", "model_path": "/models/tiny", "generation_config": {"top_p": 0.9}},
        {"slug": "gpt", "kind": "api", "model_path": "gpt-4", "base_url": "https://api.example.com/v1",
         "api_key_env": "OPENAI_API_KEY"},
    ],
)  # fmt: skip
def test_it_registers_a_model_of_each_kind(api, body):
    response = api.post("/api/v1/models/", body, format="json")
    assert response.status_code == 201, response.json()
    model = ModelEntry.objects.get(slug=body["slug"])
    assert model.kind == body["kind"] and model.name == body["slug"]
    assert response.json()["generation_config"] == body.get("generation_config", {})
    assert api.get(f"/api/v1/models/{body['slug']}/").json()["kind"] == body["kind"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"slug": "x", "kind": "local"}, ["model_path"]),
        ({"slug": "x", "kind": "api", "model_path": "m"}, ["base_url"]),
        ({"slug": "x", "kind": "alien"}, ["kind"]),
        ({"slug": "x y", "kind": "external"}, ["slug"]),
        ({"slug": "x", "kind": "external", "description": 0}, ["description"]),
        ({"slug": "x", "kind": "external", "model_path": "m"}, ["model_path"]),
        ({"slug": "x"}, ["kind"]),
        ({"slug": "x", "kind": "api", "model_path": "m", "base_url": "not a url"}, ["base_url"]),
    ],
)
def test_a_bad_model_names_its_field(api, body, fields):
    response = api.post("/api/v1/models/", body, format="json")
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == fields
    assert not ModelEntry.objects.exists()


def test_registering_the_same_model_again_is_200_and_other_settings_409(api):
    body = {"slug": "m", "name": "M", "kind": "external"}
    assert api.post("/api/v1/models/", body, format="json").status_code == 201
    assert api.post("/api/v1/models/", body, format="json").status_code == 200
    other = api.post("/api/v1/models/", {**body, "name": "Other"}, format="json")
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    assert ModelEntry.objects.get().name == "M"


def test_an_unknown_model_is_404(api):
    response = api.get("/api/v1/models/nope/")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404, "code": "not_found", "detail": "No model 'nope'.", "problems": []
    }  # fmt: skip
