"""The live stream over HTTP (uvicorn, real `vllm serve`): frames, anonymity, provenance,
what a finished battle becomes, and the researcher's export."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from django.test import Client

from evalhub.live.creation import live_study_create
from evalhub.live.models import Conversation, Turn
from evalhub.studies.models import Judgment
from tests.factories import lab_team

pytestmark = [pytest.mark.django_db(transaction=True)]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGE = re.compile(r'<script id="live-page" type="application/json">(.*?)</script>', re.S)


def _frames(raw: bytes) -> list[tuple[str, dict]]:
    found = []
    for block in raw.decode().split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_no_model_name_reaches_the_rater_before_the_vote(asgi_server, two_models, alice):
    study = live_study_create(team=lab_team(), slug="live-frames", name="Frames", mode="battle",
                              models=two_models, max_turns=2, session_quota=1)  # fmt: skip
    http = httpx.Client(base_url=asgi_server, follow_redirects=True, timeout=120)
    consent = http.get(f"/live/{study.crowd_code}/?PROLIFIC_PID=frames1&STUDY_ID=s&SESSION_ID=x")
    assert consent.status_code == 200 and "Before you start" in consent.text
    chat = http.post(f"/live/{study.crowd_code}/consent/",
                     data={"csrfmiddlewaretoken": CSRF.search(consent.text)[1]})  # fmt: skip
    seen = [consent.text, chat.text]
    page = json.loads(PAGE.search(chat.text)[1])
    token = CSRF.search(chat.text)[1]
    raws = []
    for turn in range(2):
        with http.stream("POST", page["send"], data={"text": f"Message {turn}, please."},
                         headers={"X-CSRFToken": token}) as response:  # fmt: skip
            assert response.headers["content-type"].startswith("text/event-stream")
            raws.append(b"".join(response.iter_bytes()))
        seen.append(http.get(f"/live/{study.crowd_code}/chat/").text)
    for raw in raws:
        frames = _frames(raw)
        kinds = [kind for kind, _ in frames]
        assert kinds[0] == "start" and kinds[-1] == "end" and frames[-1][1] == {"ok": True}
        deltas = [data["side"] for kind, data in frames if kind == "delta"]
        assert deltas.count("A") >= 3 and deltas.count("B") >= 3
        assert {tuple(sorted(data)) for _, data in frames} <= {
            ("sides",),
            ("side", "text"),
            ("html", "side"),
            ("ok",),
        }
    text = "\n".join(seen) + "\n".join(raw.decode() for raw in raws)
    for model in two_models:
        for secret in (model.slug, model.name, f'"{model.model_path}"', model.base_url):
            assert secret not in text, f"{secret!r} reached the rater"

    vote = http.post(page["vote"], data={"choice": "B"}, headers={"X-CSRFToken": token})
    assert vote.status_code == 200 and vote.json()["reveal"] == {}  # off by default
    (battle,) = Conversation.objects.filter(study=study)
    assert battle.vote == "B" and battle.status == "finished"
    judgment = Judgment.objects.get(item__study=study)
    target_on_right = battle.item.target_output.model_id == battle.right_id
    assert judgment.verdict == ("target" if target_on_right else "baseline")
    assert judgment.order == ("baseline_first" if target_on_right else "target_first")
    prompt = battle.item.prompt
    assert prompt.prompt_set == study.prompt_set and prompt.text == "Message 1, please."
    assert prompt.context == [{"role": "user", "content": "Message 0, please."}]
    assert len(battle.item.target_output.turns) == 2
    turns = Turn.objects.filter(conversation=battle, status="done")
    assert turns.count() == 4
    for turn in turns:
        p = turn.provenance
        assert p["sampling"]["temperature"] == 0.7 and p["sampling"]["top_p"] == 0.9
        assert p["completion_tokens"] > 0 and p["prompt_tokens"] > 0 and p["finish_reason"]
        assert p["timings_ms"]["first_token"] <= p["timings_ms"]["total"]

    researcher = Client()
    researcher.force_login(alice)
    export = researcher.get(f"/live/{study.crowd_code}/export/")
    rows = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert [r["vote"] for r in rows] == ["B"] and len(rows[0]["turns"]) == 4
    assert {rows[0]["left_model"], rows[0]["right_model"]} == {m.slug for m in two_models}
    assert Client().get(f"/live/{study.crowd_code}/export/").status_code == 302  # login first


def test_models_are_revealed_after_the_vote_when_the_study_says_so(asgi_server, two_models):
    study = live_study_create(team=lab_team(), slug="live-reveal", name="Reveal", mode="battle", models=two_models,
                      max_turns=1, session_quota=1, reveal_models=True)  # fmt: skip
    http = httpx.Client(base_url=asgi_server, follow_redirects=True, timeout=120)
    consent = http.get(f"/live/{study.crowd_code}/?PROLIFIC_PID=reveal1")
    chat = http.post(f"/live/{study.crowd_code}/consent/",
                     data={"csrfmiddlewaretoken": CSRF.search(consent.text)[1]})  # fmt: skip
    page, token = json.loads(PAGE.search(chat.text)[1]), CSRF.search(chat.text)[1]
    early = http.post(page["vote"], data={"choice": "A"}, headers={"X-CSRFToken": token})
    assert early.status_code == 409  # no vote before both answers
    with http.stream("POST", page["send"], data={"text": "Hi"},
                     headers={"X-CSRFToken": token}) as response:  # fmt: skip
        assert b"event: end" in b"".join(response.iter_bytes())
    again = http.post(page["send"], data={"text": "More?"}, headers={"X-CSRFToken": token})
    assert again.status_code == 409 and "limit of 1 messages" in again.json()["error"]
    vote = http.post(page["vote"], data={"choice": "tie"}, headers={"X-CSRFToken": token})
    assert set(vote.json()["reveal"].values()) == {m.name for m in two_models}
    assert vote.json()["next"].endswith(f"/live/{study.crowd_code}/done/")
