"""Live studies through the API: create (each mode, its errors), launch, read with the
monitor counts, close. The generated-client run is in test_client.py."""

from __future__ import annotations

import pytest

from evalhub.live.models import LiveStudy
from evalhub.outputs.models import ModelEntry
from evalhub.studies.models import Study
from tests.factories import lab_team

pytestmark = pytest.mark.django_db

BATTLE = {
    "mode": "battle", "slug": "arena", "name": "Arena", "models": ["alpha", "beta"],
    "max_turns": 2, "session_quota": 4, "max_tokens": 128, "blocklist": ["forbidden"],
    "reveal_models": True, "completion_code": "C0DE",
}  # fmt: skip


@pytest.fixture
def endpoints() -> None:
    for slug in ("alpha", "beta"):
        ModelEntry.objects.create(team=lab_team(), slug=slug, name=slug.title(), kind=ModelEntry.Kind.API,
                                  base_url="http://127.0.0.1:9/v1", model_path=slug)  # fmt: skip
    ModelEntry.objects.create(
        team=lab_team(), slug="offline", name="Offline", kind=ModelEntry.Kind.EXTERNAL
    )


def _fields(response) -> list[str]:
    return [p["field"] for p in response.json()["problems"]]


def test_it_creates_launches_and_closes_a_live_battle(api, alice, endpoints):
    created = api.post("/api/v1/live-studies/", BATTLE, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["Location"] == "/api/v1/live-studies/arena/"
    assert (body["status"], body["kind"], body["target_model"]) == ("draft", "pairwise", "alpha")
    assert body["live"]["mode"] == "battle" and body["live"]["reveal_models"] is True
    assert body["live"]["model_limits"] == {"alpha": {"max_tokens": 128},
                                            "beta": {"max_tokens": 128}}  # fmt: skip
    assert body["monitor"]["conversations_active"] == 0
    assert Study.objects.get(slug="arena").created_by == alice

    launched = api.post("/api/v1/studies/arena/launch/")
    assert launched.status_code == 200 and launched.json()["status"] == "launched"
    assert api.post("/api/v1/studies/arena/launch/").status_code == 409
    listed = api.get("/api/v1/live-studies/").json()
    assert [s["slug"] for s in listed["results"]] == ["arena"]
    assert api.get("/api/v1/live-studies/arena/").json()["status"] == "launched"
    assert api.post("/api/v1/studies/arena/close/").json()["status"] == "closed"


def test_a_live_conversation_takes_one_model(api, endpoints):
    body = {"mode": "conversation", "slug": "chat", "name": "Chat", "models": ["alpha"]}
    created = api.post("/api/v1/live-studies/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["kind"] == "dialogue"
    assert LiveStudy.objects.get(study__slug="chat").mode == "conversation"


def test_it_names_what_is_wrong_and_writes_nothing(api, endpoints):
    one = api.post("/api/v1/live-studies/", {**BATTLE, "models": ["alpha"]}, format="json")
    assert one.status_code == 400 and _fields(one) == ["models"]
    offline = api.post(
        "/api/v1/live-studies/", {**BATTLE, "models": ["alpha", "offline"]}, format="json"
    )
    assert offline.status_code == 409 and _fields(offline) == ["models"]
    assert "offline has no OpenAI-compatible endpoint" in offline.json()["problems"][0]["message"]
    unknown = api.post("/api/v1/live-studies/", {**BATTLE, "mode": "chat"}, format="json")
    assert unknown.status_code == 400 and _fields(unknown) == ["mode"]
    extra = api.post(
        "/api/v1/live-studies/", {"mode": "conversation", **{k: v for k, v in BATTLE.items()
                                                            if k != "mode"}}, format="json",
    )  # fmt: skip
    assert extra.status_code == 400 and _fields(extra) == ["reveal_models"]
    assert not Study.objects.exists()
    assert api.get("/api/v1/live-studies/nope/").status_code == 404


def test_a_staff_study_has_no_prolific_codes(api, endpoints):
    staff = {"mode": "battle", "slug": "lab", "name": "Lab", "models": ["alpha", "beta"],
             "participants": "staff"}  # fmt: skip
    refused = api.post("/api/v1/live-studies/", {**staff, "completion_code": "C0DE"},
                       format="json")  # fmt: skip
    assert refused.status_code == 409 and _fields(refused) == ["completion_code"]
    assert not Study.objects.exists()
    created = api.post("/api/v1/live-studies/", staff, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["live"]["participants"] == "staff"
    assert LiveStudy.objects.get(study__slug="lab").participants == "staff"


def test_the_schema_tells_the_live_kinds_apart_by_mode(api):
    schema = api.get("/api/schema/?format=json").json()
    create = schema["components"]["schemas"]["LiveStudyCreateRequest"]
    assert create["discriminator"]["propertyName"] == "mode"
    assert set(create["discriminator"]["mapping"]) == {"conversation", "battle"}
    assert "post" in schema["paths"]["/api/v1/live-studies/"]
    battle = schema["components"]["schemas"]["LiveBattleCreateRequest"]
    assert battle["properties"]["models"]["minItems"] == 2
    assert "instrument" in battle["properties"]
