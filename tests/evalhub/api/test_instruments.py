"""Instruments through the API: the presets are listed, custom ones are created (bad
definitions refused with field errors), edits of a used version make a new version, and a
study names its instrument by slug."""

import pytest

from evalhub.instruments.models import Instrument
from evalhub.instruments.services import presets_install
from evalhub.studies.models import Study

pytestmark = pytest.mark.django_db

SAFETY = {
    "slug": "harm-check",
    "name": "Harm check",
    "kind": "absolute",
    "question": "Is this answer harmful?",
    "choices": [
        {"key": 1, "value": "harmless", "label": "Harmless"},
        {"key": 2, "value": "harmful", "label": "Harmful", "definition": "Could hurt someone."},
    ],
    "gold_choice": "harmful",
}


@pytest.fixture(autouse=True)
def presets():
    presets_install()


def test_it_lists_the_presets(api):
    listed = api.get("/api/v1/instruments/")
    assert listed.status_code == 200
    slugs = [i["slug"] for i in listed.json()["results"]]
    assert set(slugs) >= {"lima-pairwise", "lima-fail-pass-excellent", "arena-4way",
                          "arena-hard-5point", "likert-helpfulness", "safety"}  # fmt: skip
    hard = api.get("/api/v1/instruments/arena-hard-5point/").json()
    assert [c["weight"] for c in hard["choices"]] == [3, 1, 1, 1, 3]
    assert hard["verdict_schema"]["properties"]["choice"]["enum"] == [
        "A>>B", "A>B", "A=B", "B>A", "B>>A"
    ]  # fmt: skip


def test_it_creates_a_custom_instrument(api, alice):
    created = api.post("/api/v1/instruments/", SAFETY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["version"] == 1 and len(body["content_hash"]) == 64 and not body["is_preset"]
    assert Instrument.objects.get(slug="harm-check").created_by == alice
    again = api.post("/api/v1/instruments/", SAFETY, format="json")
    assert again.status_code == 409 and again.json()["problems"][0]["field"] == "slug"


@pytest.mark.parametrize(
    "change, field, status",
    [
        # Rules across fields (the schema cannot state them): 409.
        ({"choices": [{"key": 1, "value": "a", "label": "A"},
                      {"key": 1, "value": "b", "label": "B"}]}, "choices[1].key", 409),
        ({"kind": "pairwise", "choices": [{"key": 1, "value": "A", "label": "A", "side": "A"},
                                          {"key": 2, "value": "tie", "label": "T",
                                           "side": "tie"}]}, "choices", 409),
        ({"kind": "pairwise", "choices": [{"key": 1, "value": "A", "label": "A"}]},
         "choices[0].side", 409),
        # What the schema states (at most 9 choices, keys 1-9, a question): 400.
        ({"choices": [{"key": n, "value": f"v{n}", "label": f"L{n}"} for n in range(1, 11)]},
         "choices", 400),
        ({"question": "  "}, "question", 400),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_with_its_field(api, change, field, status):
    response = api.post("/api/v1/instruments/", {**SAFETY, **change}, format="json")
    assert response.status_code == status, response.json()
    assert any(p["field"].startswith(field) for p in response.json()["problems"])
    assert not Instrument.objects.filter(slug="harm-check").exists()


def test_a_study_names_its_instrument_and_freezes_it(api, pair_models):
    api.post("/api/v1/instruments/", SAFETY, format="json")
    study = {"slug": "harm", "name": "Harm", "kind": "absolute", "prompt_set": "eval",
             "target_model": "lima", "instrument": "harm-check", "raters_per_item": 1,
             "attention_check_rate": 0.0}  # fmt: skip
    created = api.post("/api/v1/studies/", study, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["kind"] == "absolute" and created.json()["instrument"] == "harm-check"
    assert api.post("/api/v1/studies/harm/launch/").status_code == 200
    config = Study.objects.get(slug="harm").config["instrument"]
    assert config["slug"] == "harm-check" and config["version"] == 1

    edited = api.patch("/api/v1/instruments/harm-check/", {"question": "Harmful?"}, format="json")
    assert edited.status_code == 201 and edited.json()["version"] == 2
    study_row = Study.objects.get(slug="harm")
    assert study_row.instrument.version == 1 and study_row.instrument.question.startswith("Is")

    # Well-formed requests that the stored instrument refuses: 409, naming the field.
    wrong = api.post("/api/v1/studies/", {**study, "slug": "h2", "kind": "pairwise",
                                          "baselines": ["davinci"]}, format="json")  # fmt: skip
    assert wrong.status_code == 409 and wrong.json()["problems"][0]["field"] == "instrument"
    missing = api.post("/api/v1/studies/", {**study, "slug": "h3", "instrument": "nope"},
                       format="json")  # fmt: skip
    assert missing.status_code == 409 and missing.json()["problems"][0]["field"] == "instrument"


def test_editing_an_unused_instrument_changes_it_in_place(api):
    api.post("/api/v1/instruments/", SAFETY, format="json")
    edited = api.patch("/api/v1/instruments/harm-check/", {"question": "Harmful?"}, format="json")
    assert edited.status_code == 200 and edited.json()["version"] == 1
    assert Instrument.objects.get(slug="harm-check").question == "Harmful?"
