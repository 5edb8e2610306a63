"""The live answer path's statements on its own async pool (evalhub.live.answer_db): the
same checks as the threaded path, and one turn when two sends race past them."""

from __future__ import annotations

import asyncio

import pytest

from evalhub.live import answer_db
from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Turn
from evalhub.live.services import conversation_start, live_session_consent
from evalhub.live.turns import session_checked, state_params, turn_plan
from evalhub.outputs.models import ModelEntry
from evalhub.rating.services import session_start_crowd
from tests.factories import lab_team

pytestmark = pytest.mark.django_db(transaction=True)


def _battle():
    models = [ModelEntry.objects.create(slug=s, name=s, kind=ModelEntry.Kind.API,
                                        base_url="http://127.0.0.1:9/v1", model_path=s)
              for s in ("left-model", "right-model")]  # fmt: skip
    study = live_study_create(team=lab_team(), slug="race", name="Race", mode="battle",
                              models=models,
                              max_turns=2, session_quota=1)  # fmt: skip
    session = live_session_consent(session=session_start_crowd(study=study, participant_id="r1"))
    return study, session, conversation_start(session=session)


def test_two_sends_that_race_past_the_checks_open_one_turn():
    study, session, conversation = _battle()
    params = state_params(
        session_token=session.token, crowd_code=study.crowd_code, token=conversation.token
    )

    async def race() -> tuple[list[int], dict]:
        try:
            # Both read the conversation before either writes: both pass every check.
            states = await asyncio.gather(*(answer_db.turn_state(params) for _ in range(2)))
            first, second = (turn_plan(session_checked(s, sent=1), "Hi") for s in states)
            opened = await answer_db.open_rows(first)
            with pytest.raises(LiveInputError, match="wait for the answer") as refused:
                await answer_db.open_rows(second)
            assert refused.value.status == 409
            return opened, states[0]
        finally:
            await answer_db.close()

    opened, state = asyncio.run(race())
    rows = list(Turn.objects.order_by("side").values_list("id", "side", "index", "status"))
    assert rows == [(opened[0], "A", 0, "streaming"), (opened[1], "B", 0, "streaming")]
    assert [m["slug"] for m in state["models"]] == ["left-model", "right-model"]


def test_an_unknown_conversation_reads_as_none_and_is_refused():
    study, session, _ = _battle()
    params = state_params(session_token=session.token, crowd_code=study.crowd_code, token="nope")

    async def read() -> dict | None:
        try:
            return await answer_db.turn_state(params)
        finally:
            await answer_db.close()

    with pytest.raises(LiveInputError, match="could not find your session"):
        session_checked(asyncio.run(read()), sent=1)
