"""A live study from the workspace, through Django's test client: the form (with its
errors), the draft, launch, the live monitor, results and close. Participants' turns go
through the live services; the model's answer is written as the stream writes it
(turn_finish), since this test runs no model server (tests/evalhub/live/test_browser.py
streams from a real `vllm serve`)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evalhub.live.models import Conversation, LiveStudy
from evalhub.live.moderation import REFUSED
from evalhub.live.services import battle_vote, conversation_start, live_session_consent
from evalhub.live.turns import turn_finish, turn_open
from evalhub.outputs.models import ModelEntry
from evalhub.rating.services import session_start_crowd
from evalhub.studies.models import Judgment, Study
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


def _endpoint(slug: str) -> ModelEntry:
    return ModelEntry.objects.create(team=lab_team(), slug=slug, name=slug.title(), kind=ModelEntry.Kind.API,
                                     base_url="http://127.0.0.1:9/v1", model_path=slug)  # fmt: skip


@pytest.fixture
def researcher(client, alice):
    client.force_login(alice)
    return client


FORM = {
    "mode": "battle", "name": "Arena of two", "slug": "arena-two", "max_turns": 1,
    "session_quota": 2, "target_per_pair": 5, "max_tokens": 64, "concurrency": 4,
    "max_prompt_chars": 500, "messages_per_minute": 30, "blocklist": "forbidden\n\n  bad word ",
    "completion_code": "C0DE", "screenout_code": "",
}  # fmt: skip


def test_the_new_study_page_offers_both_live_kinds(researcher):
    page = researcher.get(reverse("workspace:study_new")).content.decode()
    assert 'id="new-live-conversation"' in page and 'id="new-live-battle"' in page
    live = researcher.get(reverse("workspace:live_study_new") + "?mode=conversation")
    assert live.status_code == 200
    assert live.context["form"]["mode"].value() == "conversation"


def test_it_names_the_field_that_stops_a_live_study(researcher):
    _endpoint("alpha")
    ModelEntry.objects.create(
        team=lab_team(), slug="offline", name="Offline", kind=ModelEntry.Kind.EXTERNAL
    )
    response = researcher.post(reverse("workspace:live_study_new"), {**FORM, "models": ["alpha"]})
    assert response.status_code == 200
    assert response.context["form"].errors["models"] == ["a live battle needs at least two models"]
    response = researcher.post(
        reverse("workspace:live_study_new"), {**FORM, "models": ["alpha", "offline"]}
    )
    assert "offline" in response.context["form"].errors["models"][0]  # not an endpoint
    assert not Study.objects.exists()


def test_a_researcher_creates_launches_watches_and_closes_a_live_battle(researcher):
    _endpoint("alpha"), _endpoint("beta")
    response = researcher.post(
        reverse("workspace:live_study_new"), {**FORM, "models": ["alpha", "beta"]}
    )
    assert response.status_code == 302, response.context["form"].errors
    study = Study.objects.get(slug="arena-two")
    assert study.status == Study.Status.DRAFT and study.kind == Study.Kind.PAIRWISE
    live = study.live
    assert (live.mode, live.max_turns, live.target_per_pair) == (LiveStudy.Mode.BATTLE, 1, 5)
    assert live.blocklist == ["forbidden", "bad word"]
    assert live.model_limits == {s: {"max_tokens": 64, "concurrency": 4}
                                 for s in ("alpha", "beta")}  # fmt: skip
    assert study.config["live"]["models"] == ["alpha", "beta"]

    page = researcher.get(reverse("workspace:study", args=[study.slug])).content.decode()
    assert 'id="launch"' in page and 'id="preview-link"' not in page
    launch = reverse("workspace:study_transition", args=[study.slug, "launch"])
    researcher.post(launch)
    study.refresh_from_db()
    assert study.status == Study.Status.LAUNCHED
    page = researcher.get(reverse("workspace:study", args=[study.slug])).content.decode()
    assert f"/live/{study.crowd_code}/?PROLIFIC_PID=" in page  # the Prolific URL is the live entry
    assert 'id="live-monitor"' in page

    # Two participants battle once each: A wins, then a tie.
    for pid, vote in (("p1", "A"), ("p2", "tie")):
        session = live_session_consent(session=session_start_crowd(study=study,
                                                                    participant_id=pid))  # fmt: skip
        conversation = conversation_start(session=session)
        for opened in turn_open(session_token=session.token, crowd_code=study.crowd_code,
                                token=conversation.token, text="Name a colour."):  # fmt: skip
            turn_finish(turn_id=opened.turn_id, text=f"Blue ({opened.side})",
                        provenance={"completion_tokens": 3})  # fmt: skip
        battle_vote(session=session, token=conversation.token, choice=vote)

    page = researcher.get(reverse("workspace:study", args=[study.slug]))
    live_counts = page.context["live"]
    assert live_counts["conversations_finished"] == 2
    assert live_counts["turns_answered"] == 4 and live_counts["turns_failed"] == 0
    assert live_counts["tokens_streamed"] == 12
    assert Judgment.objects.filter(item__study=study).count() == 2
    assert Conversation.objects.filter(study=study, vote="tie").count() == 1
    assert researcher.get(reverse("dashboards:study", args=[study.slug])).status_code == 200
    data = researcher.get(reverse("dashboards:study_data", args=[study.slug])).json()
    board = {row["model"]: row for row in data["leaderboard"]["models"]}
    assert set(board) == {"alpha", "beta"} and board["alpha"]["n_battles"] == 2
    assert board["alpha"]["rating"] > board["beta"]["rating"]  # one win, one tie
    assert all(row["lower"] <= row["rating"] <= row["upper"] for row in board.values())

    researcher.post(reverse("workspace:study_transition", args=[study.slug, "close"]))
    study.refresh_from_db()
    assert study.status == Study.Status.CLOSED


def test_the_preview_names_a_failed_endpoint_and_a_refused_message_and_records_nothing(
    researcher,
):
    from evalhub.live.creation import live_study_create
    from evalhub.live.models import Turn
    from evalhub.prompts.models import Prompt

    study = live_study_create(team=lab_team(), slug="pv", name="Preview me", mode="battle",
                              models=[_endpoint("alpha"), _endpoint("beta")],
                              blocklist=["forbidden"], launch=False)  # fmt: skip
    url = reverse("workspace:live_study_preview", args=[study.slug])
    page = researcher.get(url)
    assert page.status_code == 200 and b"Nothing is recorded" in page.content
    refused = researcher.post(url, {"text": "something forbidden"})
    assert refused.context["error"] == REFUSED
    assert refused.context["turns"] == []
    failed = researcher.post(url, {"text": "Hello there"})  # nothing listens on port 9
    assert failed.context["error"] == (
        "Answer A: the endpoint failed: Connection error. "
        "Answer B: the endpoint failed: Connection error."
    )
    assert failed.context["turns"] == []  # a failed turn is not kept
    assert not Conversation.objects.exists() and not Turn.objects.exists()
    assert not Prompt.objects.filter(prompt_set__slug="pv-live").exists()
    assert researcher.get(reverse("workspace:live_study_preview", args=["nope"])).status_code == 404
