"""A live study for the lab's own staff: a researcher makes it in the workspace (no
Prolific codes), launches it, and a logged-in colleague takes part from the link on the
study page, with no Prolific id; their votes count under the rater group "author". The
model's answer is written as the stream writes it (turn_finish): no model server here
(test_browser.py streams from a real `vllm serve` through the same cookie)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Conversation, LiveStudy
from evalhub.live.services import live_session_start_staff
from evalhub.live.turns import turn_finish, turn_open
from evalhub.outputs.models import ModelEntry
from evalhub.rating.models import RaterSession
from evalhub.studies.models import Judgment, Study
from tests.factories import lab_team

pytestmark = pytest.mark.django_db
PAGE = re.compile(r'<script id="live-page" type="application/json">(.*?)</script>', re.S)
FORM = {
    "mode": "battle", "participants": "staff", "name": "Lab arena", "slug": "lab-arena",
    "models": ["alpha", "beta"], "max_turns": 1, "session_quota": 2, "target_per_pair": 5,
    "max_prompt_chars": 500, "messages_per_minute": 30, "blocklist": "",
    "completion_code": "", "screenout_code": "",
}  # fmt: skip


@pytest.fixture
def endpoints() -> list[ModelEntry]:
    return [ModelEntry.objects.create(team=lab_team(), slug=s, name=s.title(), kind=ModelEntry.Kind.API,
                                      base_url="http://127.0.0.1:9/v1", model_path=s)
            for s in ("alpha", "beta")]  # fmt: skip


def _battle_once(staff: Client, study: Study, vote: str) -> dict:
    """One battle of the logged-in staff member: the chat page, a turn answered on both
    sides, the vote through the page's own URL. Returns the vote's JSON answer."""
    chat = staff.get(reverse("live:chat", args=[study.crowd_code]))
    assert chat.status_code == 200
    page = chat.content.decode()
    assert "alpha" not in page and "beta" not in page  # blind, as for crowd raters
    token = staff.cookies["ls"].value
    conversation = Conversation.objects.get(session__token=token, status="active")
    for opened in turn_open(session_token=token, crowd_code=study.crowd_code, token=conversation.token,
                            text="Name a colour."):  # fmt: skip
        turn_finish(turn_id=opened.turn_id, text=f"Blue ({opened.side})",
                    provenance={"completion_tokens": 2})  # fmt: skip
    vote_url = json.loads(PAGE.search(page)[1])["vote"]
    voted = staff.post(vote_url, {"choice": vote})
    assert voted.status_code == 200, voted.content
    return voted.json()


def test_staff_take_part_from_the_workspace_without_prolific(client, alice, bob, endpoints):
    client.force_login(alice)
    made = client.post(reverse("workspace:live_study_new"), FORM)
    assert made.status_code == 302, made.context["form"].errors
    study = Study.objects.get(slug="lab-arena")
    assert study.live.participants == LiveStudy.Participants.STAFF
    assert study.config["live"]["participants"] == "staff"
    client.post(reverse("workspace:study_transition", args=[study.slug, "launch"]))
    page = client.get(reverse("workspace:study", args=[study.slug])).content.decode()
    assert 'id="staff-participants"' in page and 'id="prolific"' not in page
    assert "PROLIFIC_PID" not in page
    link = f"/live/{study.crowd_code}/staff/"
    assert f'href="http://testserver{link}" id="staff-rate-link"' in page

    # A Prolific link leads nowhere in a staff study, and the staff link needs a login.
    crowd = Client().get(f"/live/{study.crowd_code}/?PROLIFIC_PID=p1&STUDY_ID=s&SESSION_ID=x")
    assert crowd.status_code == 403 and b"for the lab&#x27;s staff" in crowd.content
    assert Client().get(link).status_code == 302  # to the login page
    assert not RaterSession.objects.filter(study=study).exists()

    staff = Client()
    staff.force_login(bob)  # a rater, not a researcher
    entered = staff.get(link)
    assert entered.status_code == 303 and entered["Location"] == f"/live/{study.crowd_code}/chat/"
    session = RaterSession.objects.get(study=study)
    assert (session.rater.user, session.rater.group) == (bob, "author")
    assert session.consented_at is not None and session.quota == 2
    assert not session.prolific_study_id and session.rater.external_id_hash is None

    assert _battle_once(staff, study, "A") == {
        "finished": True,
        "next": f"/live/{study.crowd_code}/chat/",
        "reveal": {},
    }
    assert staff.get(link)["Location"] == f"/live/{study.crowd_code}/chat/"  # the same session
    last = _battle_once(staff, study, "tie")
    assert last["next"] == f"/live/{study.crowd_code}/done/"
    done = staff.get(last["next"]).content.decode()
    assert "Your answers are saved" in done and "Prolific" not in done
    judgments = Judgment.objects.filter(item__study=study)
    assert sorted(judgments.values_list("raw_choice", flat=True)) == ["A", "tie"]
    assert set(judgments.values_list("judge_group", flat=True)) == {"author"}
    assert RaterSession.objects.get(pk=session.pk).status == RaterSession.Status.COMPLETED


def test_a_staff_study_takes_no_prolific_codes(client, alice, endpoints):
    with pytest.raises(LiveInputError, match="a staff study has no Prolific codes"):
        live_study_create(team=lab_team(), slug="x", name="X", mode="battle", models=endpoints,
                          participants="staff", completion_code="C0DE")  # fmt: skip
    client.force_login(alice)
    form = client.post(reverse("workspace:live_study_new"), {**FORM, "completion_code": "C0DE"})
    assert form.context["form"].errors["completion_code"] == ["a staff study has no Prolific codes"]
    assert not Study.objects.exists()


def test_the_staff_link_of_a_prolific_study_starts_nothing(bob, endpoints):
    study = live_study_create(
        team=lab_team(), slug="crowd", name="Crowd", mode="battle", models=endpoints
    )
    with pytest.raises(LiveInputError, match="for Prolific participants"):
        live_session_start_staff(study=study, user=bob)
    staff = Client()
    staff.force_login(bob)
    assert staff.get(f"/live/{study.crowd_code}/staff/").status_code == 403
    assert not RaterSession.objects.filter(study=study).exists()
