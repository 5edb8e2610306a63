"""A live battle asks the study's instrument (Arena's 4-way, Arena-Hard's 5-point), the
chat page shows its choices, votes are stored as its values and results weigh them as the
instrument says. The model's answer is written as the stream writes it (turn_finish):
no model server here (test_browser.py streams from a real `vllm serve`)."""

from __future__ import annotations

import pytest
from django.test import Client

from evalhub.dashboards.selectors import study_results
from evalhub.instruments.selectors import instrument_latest
from evalhub.instruments.services import presets_install
from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Conversation
from evalhub.live.services import battle_vote, conversation_start, live_session_consent
from evalhub.live.turns import turn_finish, turn_open
from evalhub.outputs.models import ModelEntry
from evalhub.rating.services import session_start_crowd
from evalhub.studies.models import Judgment
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _presets(db) -> None:
    presets_install()  # a transactional test's flush may have removed the migration's rows


def _models() -> list[ModelEntry]:
    return [ModelEntry.objects.create(team=lab_team(), slug=s, name=s.title(), kind=ModelEntry.Kind.API,
                                      base_url="http://127.0.0.1:9/v1", model_path=s)
            for s in ("alpha", "beta")]  # fmt: skip


def _answered_battle(study, pid: str):
    session = live_session_consent(session=session_start_crowd(study=study, participant_id=pid))
    conversation = conversation_start(session=session)
    for opened in turn_open(session_token=session.token, crowd_code=study.crowd_code,
                            token=conversation.token, text="Name a colour."):  # fmt: skip
        turn_finish(turn_id=opened.turn_id, text="Blue", provenance={"completion_tokens": 1})
    return session, conversation


def test_arena_4way_counts_both_are_bad_as_a_tie_and_shows_its_choices():
    study = live_study_create(team=lab_team(), slug="arena4", name="Arena 4", mode="battle", models=_models(),
                              max_turns=1, session_quota=1,
                              instrument=instrument_latest(team=lab_team(), slug="arena-4way"))  # fmt: skip
    assert study.config["instrument"]["slug"] == "arena-4way"
    session, conversation = _answered_battle(study, "p1")
    with pytest.raises(LiveInputError, match="pick one of A, B, tie, both_bad"):
        battle_vote(session=session, token=conversation.token, choice="excellent")
    battle_vote(session=session, token=conversation.token, choice="both_bad")
    judgment = Judgment.objects.get(item__study=study)
    assert (judgment.raw_choice, judgment.verdict) == ("both_bad", Judgment.Verdict.TIE)

    browser = Client()
    browser.get(f"/live/{study.crowd_code}/?PROLIFIC_PID=p2&STUDY_ID=s&SESSION_ID=x")
    browser.post(f"/live/{study.crowd_code}/consent/")
    page = browser.get(f"/live/{study.crowd_code}/chat/").content.decode()
    for value in ("A", "B", "tie", "both_bad"):
        assert f'data-choice="{value}"' in page
    assert "Both are bad" in page and "Which answer is better?" in page


def test_arena_hard_votes_keep_their_strength_in_the_results():
    study = live_study_create(team=lab_team(), slug="hard", name="Hard", mode="battle", models=_models(),
                              max_turns=1, session_quota=1,
                              instrument=instrument_latest(team=lab_team(), slug="arena-hard-5point"))  # fmt: skip
    votes = {"p1": "A>>B", "p2": "B>A", "p3": "A=B"}
    for pid, choice in votes.items():
        session, conversation = _answered_battle(study, pid)
        battle_vote(session=session, token=conversation.token, choice=choice)
    stored = sorted(Conversation.objects.filter(study=study).values_list("vote", flat=True))
    assert stored == sorted(votes.values())
    sides = {"A>>B": "A", "B>A": "B", "A=B": "tie"}
    for battle in Conversation.objects.filter(study=study).select_related("item"):
        judgment = Judgment.objects.get(item=battle.item)
        side = sides[battle.vote]
        left_is_target = battle.left.slug == "alpha"  # the study's first model is the target
        expected = "tie" if side == "tie" else (
            "target" if (side == "A") == left_is_target else "baseline")  # fmt: skip
        assert (judgment.raw_choice, judgment.verdict) == (battle.vote, expected)
    results = study_results(study)
    assert results["instrument"]["slug"] == "arena-hard-5point"
    assert results["n_judgments"] == 3
    # In the target's frame (alpha as A), as the instrument's results read every vote.
    swap = {"A>>B": "B>>A", "A>B": "B>A", "A=B": "A=B", "B>A": "A>B", "B>>A": "A>>B"}
    framed = [b.vote if b.left.slug == "alpha" else swap[b.vote]
              for b in Conversation.objects.filter(study=study)]  # fmt: skip
    (shares,) = results["choices"]
    assert {r["value"]: r["count"] for r in shares["shares"] if r["count"]} == {
        v: framed.count(v) for v in set(framed)
    }
    weight = {"A>>B": 3, "B>>A": 3}
    point = {"A>>B": 1.0, "A>B": 1.0, "A=B": 0.5, "B>A": 0.0, "B>>A": 0.0}
    expected = sum(weight.get(v, 1) * point[v] for v in framed) / sum(
        weight.get(v, 1) for v in framed
    )
    (rate,) = results["weighted_win_rate"]
    assert rate["weighted_win_rate"] == pytest.approx(expected)  # a strong vote counts 3x


def test_it_refuses_an_instrument_a_battle_cannot_ask():
    models = _models()
    absolute = instrument_latest(team=lab_team(), slug="lima-fail-pass-excellent")
    with pytest.raises(LiveInputError, match="instrument: a live battle asks a pairwise"):
        live_study_create(
            team=lab_team(), slug="x", name="x", mode="battle", models=models, instrument=absolute
        )
    with pytest.raises(LiveInputError, match="instrument: only a live battle"):
        live_study_create(team=lab_team(), slug="y", name="y", mode="conversation", models=models,
                          instrument=instrument_latest(team=lab_team(), slug="arena-4way"))  # fmt: skip
