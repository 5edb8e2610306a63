"""The live monitor's spend: tokens in and out of every turn, priced per endpoint model
name by the price table, and the models that have no price. The model's answer is written
as the stream writes it (turn_finish, with the endpoint's token counts)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from evalhub.live.creation import live_study_create
from evalhub.live.monitoring import live_monitor
from evalhub.live.services import battle_vote, conversation_start, live_session_consent
from evalhub.live.turns import turn_finish, turn_open
from evalhub.outputs.models import ModelEntry
from evalhub.rating.services import session_start_crowd
from generation.judging.models import JudgePrice
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


def _battle(study, pid: str) -> None:
    session = live_session_consent(session=session_start_crowd(study=study, participant_id=pid))
    conversation = conversation_start(session=session)
    for opened in turn_open(session_token=session.token, crowd_code=study.crowd_code,
                            token=conversation.token, text="Name a colour."):  # fmt: skip
        turn_finish(turn_id=opened.turn_id, text="Blue", provenance={
            "model_name": opened.spec.model_name, "prompt_tokens": 1000,
            "completion_tokens": 3000})  # fmt: skip
    battle_vote(session=session, token=conversation.token, choice="A")


def test_the_monitor_prices_the_tokens_of_priced_models_and_names_the_rest(client, alice):
    models = [ModelEntry.objects.create(team=lab_team(), slug=s, name=s.title(), kind=ModelEntry.Kind.API,
                                        base_url="http://127.0.0.1:9/v1", model_path=f"{s}-v1")
              for s in ("alpha", "beta")]  # fmt: skip
    study = live_study_create(team=lab_team(), slug="spend", name="Spend", mode="battle", models=models,
                              max_turns=1, session_quota=1)  # fmt: skip
    assert live_monitor(study=study)["cost_usd"] is None  # nothing streamed, nothing priced
    _battle(study, "p1")
    _battle(study, "p2")
    spend = live_monitor(study=study)
    assert (spend["prompt_tokens"], spend["tokens_streamed"]) == (4000, 12000)
    assert spend["cost_usd"] is None and spend["unpriced_models"] == ["alpha-v1", "beta-v1"]

    # $2 in and $10 out per million tokens for alpha: 2000 in, 6000 out = $0.004 + $0.06.
    JudgePrice.objects.create(model="alpha-v1", usd_per_mtok_in=2, usd_per_mtok_out=10)
    spend = live_monitor(study=study)
    assert Decimal(spend["cost_usd"]) == Decimal("0.064")
    assert spend["unpriced_models"] == ["beta-v1"]

    client.force_login(alice)
    page = client.get(reverse("workspace:study", args=[study.slug])).content.decode()
    assert '<strong id="live-spend">$0.064000</strong>' in page
    assert "No price for beta-v1" in page
