"""Live study writes without a model server: settings, model balance, refused messages."""

from __future__ import annotations

import pytest

from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Conversation, Turn
from evalhub.live.services import conversation_start, live_session_consent
from evalhub.live.turns import turn_open
from evalhub.outputs.models import ModelEntry
from evalhub.rating.services import session_start_crowd
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


def _model(slug: str, **fields) -> ModelEntry:
    defaults = {"kind": ModelEntry.Kind.API, "base_url": "http://127.0.0.1:9/v1",
                "model_path": slug}  # fmt: skip
    return ModelEntry.objects.create(
        team=lab_team(), slug=slug, name=slug.title(), **{**defaults, **fields}
    )


def _session(study, pid: str):
    return live_session_consent(session=session_start_crowd(study=study, participant_id=pid))


def test_it_names_the_setting_that_stops_a_live_study():
    offline = _model("offline", kind=ModelEntry.Kind.EXTERNAL, base_url="")
    with pytest.raises(LiveInputError, match="models: offline has no OpenAI-compatible"):
        live_study_create(
            team=lab_team(), slug="x", name="x", mode="conversation", models=[offline]
        )
    with pytest.raises(LiveInputError, match="models: a live battle needs at least 2"):
        live_study_create(team=lab_team(), slug="x", name="x", mode="battle", models=[_model("a")])
    with pytest.raises(LiveInputError, match="max_turns"):
        live_study_create(team=lab_team(), slug="x", name="x", mode="conversation", models=[_model("b")],
                          max_turns=0)  # fmt: skip
    with pytest.raises(LiveInputError, match="mode"):
        live_study_create(team=lab_team(), slug="x", name="x", mode="chat", models=[_model("c")])


def test_conversations_are_balanced_across_models_and_raters():
    models = [_model("m1"), _model("m2")]
    study = live_study_create(
        team=lab_team(), slug="bal", name="Bal", mode="conversation", models=models
    )
    made = [conversation_start(session=_session(study, f"p{i}")) for i in range(6)]
    assert sorted(c.left.slug for c in made) == ["m1"] * 3 + ["m2"] * 3
    again = conversation_start(session=made[0].session)  # a reload keeps the conversation
    assert again.pk == made[0].pk
    assert study.status == "launched" and study.config["live"]["models"] == ["m1", "m2"]
    assert study.prompt_set.slug == "bal-live"


def test_bad_messages_are_refused_and_write_nothing():
    study = live_study_create(team=lab_team(),
        slug="ref", name="Ref", mode="conversation", models=[_model("r1")],
        max_prompt_chars=50, messages_per_minute=3, blocklist=["Bad Word"],
    )  # fmt: skip
    session = _session(study, "ref1")
    token = conversation_start(session=session).token
    refusals = [("   ", 400, "write a message"), ("x" * 51, 413, "limit is 50"),
                ("a bad word here", 422, "cannot be sent"), ("fine", 429, "wait a moment")]  # fmt: skip
    for text, status, words in refusals:
        with pytest.raises(LiveInputError, match=words) as caught:
            turn_open(
                session_token=session.token, crowd_code=study.crowd_code, token=token, text=text
            )
        assert caught.value.status == status
    assert not Turn.objects.exists()
    with pytest.raises(LiveInputError, match="could not find your session"):
        turn_open(session_token=session.token, crowd_code=study.crowd_code, token="nope", text="hi")
    assert Conversation.objects.get(token=token).status == "active"


def test_a_turn_left_streaming_by_a_dead_web_process_stops_blocking_the_rater():
    from datetime import timedelta

    from django.utils import timezone

    study = live_study_create(team=lab_team(), slug="stale", name="Stale", mode="conversation",
                              models=[_model("s1")])  # fmt: skip
    session = _session(study, "stale1")
    conversation = conversation_start(session=session)
    (opened,) = turn_open(
        session_token=session.token,
        crowd_code=study.crowd_code,
        token=conversation.token,
        text="first",
    )
    with pytest.raises(LiveInputError, match="wait for the answer"):
        turn_open(
            session_token=session.token,
            crowd_code=study.crowd_code,
            token=conversation.token,
            text="again",
        )
    Turn.objects.filter(pk=opened.turn_id).update(started_at=timezone.now() - timedelta(hours=1))
    (retried,) = turn_open(
        session_token=session.token,
        crowd_code=study.crowd_code,
        token=conversation.token,
        text="again",
    )
    assert Turn.objects.get(pk=opened.turn_id).status == "failed"
    assert retried.messages == [{"role": "user", "content": "again"}] and retried.side == "A"


def test_adaptive_pairing_rates_from_the_votes_and_keeps_a_starved_pair_in_play():
    from evalhub.live.services import _ratings, battle_vote
    from evalhub.live.turns import turn_finish

    m0, m1, m2 = _model("m0"), _model("m1"), _model("m2")
    study = live_study_create(team=lab_team(), slug="adapt", name="Adapt", mode="battle", models=[m0, m1, m2],
                              max_turns=1, session_quota=1, target_per_pair=100,
                              adaptive=True)  # fmt: skip

    def battle(pid: str, left: ModelEntry, right: ModelEntry, vote: str) -> None:
        session = _session(study, pid)
        conversation = conversation_start(session=session)
        # The pair is set here, not drawn: the test needs these counts.
        Conversation.objects.filter(pk=conversation.pk).update(left=left, right=right)
        for opened in turn_open(session_token=session.token, crowd_code=study.crowd_code,
                                token=conversation.token, text="Hi"):  # fmt: skip
            turn_finish(turn_id=opened.turn_id, text="Hello", provenance={})
        battle_vote(session=session, token=conversation.token, choice=vote)

    for i in range(12):
        battle(f"a{i}", m0, m1, ["A", "B", "tie"][i % 3])
    battle("b0", m0, m2, "A")
    battle("b1", m2, m0, "B")  # m2 lost both, once on each side
    ratings = _ratings(study, [m0.pk, m1.pk, m2.pk])
    # The ridge keeps m2 finite (an MLE would send it to minus infinity), and below m0.
    assert -5 < ratings[m2.pk] < ratings[m0.pk]
    chosen = conversation_start(session=_session(study, "next"))
    # m1-m2 has no battle, under half its uniform share: the exploration floor picks it.
    assert {chosen.left_id, chosen.right_id} == {m1.pk, m2.pk}
