"""Live studies end to end: Chromium on the ASGI server (uvicorn), answers streamed from the
real `vllm serve` under two served model names, results read back from the dashboards."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from evalhub.dashboards.selectors import study_results
from evalhub.live.creation import live_study_create
from evalhub.live.models import Conversation, Turn
from evalhub.outputs.models import ModelEntry
from evalhub.studies.models import Judgment
from tests.browser import assert_accessible
from tests.factories import lab_team

pytestmark = [pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"

# Counts text nodes added under each answer: one per streamed piece.
COUNT_UPDATES = """() => {
  window.__updates = {A: 0, B: 0};
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      const side = r.target.closest && r.target.closest('[data-side]');
      if (n.nodeType === Node.TEXT_NODE && side) window.__updates[side.dataset.side] += 1;
    }
  }).observe(document.getElementById('transcript'), {childList: true, subtree: true});
}"""


def _secret_names(models: list[ModelEntry]) -> list[str]:
    names = []
    for m in models:
        names += [m.slug, m.name, f'"{m.model_path}"', m.base_url]
    return names


def _assert_no_names(html: str, models: list[ModelEntry]) -> None:
    for secret in _secret_names(models):
        assert secret not in html, f"{secret!r} reached the rater's page"


def _enter(browser, base: str, crowd_code: str, pid: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(f"{base}/live/{crowd_code}/?PROLIFIC_PID={pid}&STUDY_ID=s1&SESSION_ID=x{pid}")
    page.wait_for_url("**/consent/")
    page.focus("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/chat/")
    return context, page


def test_a_participant_holds_a_three_turn_live_conversation_by_keyboard(
    browser, asgi_server, two_models, alice
):
    study = live_study_create(team=lab_team(),
        slug="live-chat", name="Live chat", mode="conversation", models=two_models,
        max_turns=3, session_quota=1, completion_code="LIVE-OK",
    )  # fmt: skip
    context, page = _enter(browser, asgi_server, study.crowd_code, "participant1")
    assert_accessible(page)
    _assert_no_names(page.content(), two_models)
    for turn, key in enumerate(["3", "2", "1"]):
        page.wait_for_function("document.activeElement.id === 'message'")
        page.evaluate(COUNT_UPDATES)
        page.keyboard.type(f"Turn {turn}: how do I boil an egg?")
        page.keyboard.press("Enter")
        page.wait_for_selector("#label-panel:not([hidden])")
        assert page.evaluate("window.__updates.A") >= 3, "the answer arrived in one piece"
        assert not page.query_selector(".streaming")
        _assert_no_names(page.content(), two_models)
        if turn == 1:
            assert_accessible(page)
            page.screenshot(path=str(SCREENSHOTS / "live-conversation.png"), full_page=True)
        page.keyboard.press(key)
        if turn < 2:
            page.wait_for_selector("#composer:not([hidden])")
    page.wait_for_url("**/done/")
    assert "LIVE-OK" in page.content()
    assert not page.problems
    context.close()

    conversation = Conversation.objects.get(study=study)
    assert conversation.status == Conversation.Status.FINISHED
    judgment = Judgment.objects.get(item__study=study)
    assert judgment.turn_labels == ["excellent", "pass", "fail"]
    output = conversation.item.target_output
    assert output.model == conversation.left and len(output.turns) == 3
    turn_provenance = output.provenance["live"]["turns"]
    assert [t["sampling"]["max_tokens"] for t in turn_provenance] == [48, 48, 48]
    assert all(t["completion_tokens"] > 0 and t["timings_ms"]["total"] > 0 for t in turn_provenance)
    assert all("seed" in t and t["endpoint"] == conversation.left.base_url for t in turn_provenance)
    labels = study_results(study)["labels"]
    (row,) = [r for r in labels if r["judge_group"] == "crowd"]
    assert row["model"] == conversation.left.slug and row["n_ratings"] == 3
    client = Client()
    client.force_login(alice)
    assert client.get(f"/dashboards/studies/{study.slug}/").status_code == 200


def test_two_participants_run_battles_until_every_pair_has_its_count(
    browser, asgi_server, two_models, vllm_server
):
    third = ModelEntry.objects.create(
        team=lab_team(),
        slug="lima-hot", name="LIMA, hotter sampling", kind=ModelEntry.Kind.API,
        base_url=vllm_server, model_path="tiny",
        generation_config={"max_tokens": 48, "temperature": 1.2},
    )  # fmt: skip
    models = [*two_models, third]
    study = live_study_create(team=lab_team(),
        slug="live-arena", name="Live arena", mode="battle", models=models, max_turns=2,
        target_per_pair=2, session_quota=3, completion_code="ARENA-OK",
    )  # fmt: skip
    sessions = [_enter(browser, asgi_server, study.crowd_code, pid) for pid in ("alpha1", "beta2")]
    for battle in range(3):
        for n, (_, page) in enumerate(sessions):
            page.wait_for_selector("#message")
            if battle == 0 and n == 0:
                assert_accessible(page)
            page.evaluate(COUNT_UPDATES)
            page.fill("#message", f"Battle {battle} from {n}: write a haiku about rain.")
            page.keyboard.press("Enter")
            page.wait_for_selector("#vote-panel:not([hidden])")
            page.wait_for_function("!document.querySelector('.streaming')")
            updates = page.evaluate("window.__updates")
            # Each side grew in pieces: at least 3 updates, or one per word of a shorter
            # answer (the tiny model at temperature 1.2 may stop after a word or two).
            for side in ("A", "B"):
                words = page.locator(f"#transcript [data-side={side}] .md").last.inner_text()
                assert updates[side] >= min(3, len(words.split())), (side, updates, words)
            _assert_no_names(page.content(), models)
            if battle == 0 and n == 1:
                page.screenshot(path=str(SCREENSHOTS / "live-battle.png"), full_page=True)
            with page.expect_navigation():
                page.keyboard.press("123"[(battle + n) % 3])
            assert page.url.endswith("/done/" if battle == 2 else "/chat/")
            if battle == 2:  # read at once: the done page sends the rater on after 1 s
                assert "ARENA-OK" in page.locator("main").inner_text()
    for context, page in sessions:
        assert not page.problems
        context.close()

    ids = [m.pk for m in models]
    battles = list(Conversation.objects.filter(study=study))
    assert len(battles) == 6 and all(b.status == "finished" for b in battles)
    per_pair: dict[tuple[int, int], list[bool]] = {}
    for b in battles:
        first_left = ids.index(b.left_id) < ids.index(b.right_id)
        pair = tuple(sorted((b.left_id, b.right_id), key=ids.index))
        per_pair.setdefault(pair, []).append(first_left)
    assert sorted(len(v) for v in per_pair.values()) == [2, 2, 2]
    assert all(sorted(v) == [False, True] for v in per_pair.values()), per_pair
    judgments = Judgment.objects.filter(item__study=study)
    assert judgments.count() == 6
    assert (
        sorted(judgments.values_list("order", flat=True))
        == ["baseline_first"] * 3 + ["target_first"] * 3
    )
    board = study_results(study)["leaderboard"]
    assert {row["model"] for row in board["models"]} == {m.slug for m in models}
    assert sum(row["n_battles"] for row in board["models"]) == 12
    pairwise = study_results(study)["pairwise"]
    assert sum(r["n_judgments"] for r in pairwise if r["judge_group"] == "crowd") == 6


def test_an_endpoint_killed_mid_stream_shows_a_retry_and_counts_nothing(
    browser, asgi_server, relay
):
    model = ModelEntry.objects.create(
        team=lab_team(),
        slug="behind-relay", name="Behind relay", kind=ModelEntry.Kind.API,
        base_url=relay.base_url, model_path="tiny", generation_config={"max_tokens": 200},
    )  # fmt: skip
    study = live_study_create(team=lab_team(), slug="live-cut", name="Cut", mode="conversation", models=[model],
                              max_turns=1, session_quota=1)  # fmt: skip
    context, page = _enter(browser, asgi_server, study.crowd_code, "cut1")
    relay.cut_after = 1500
    page.fill("#message", "Tell me a long story.")
    page.keyboard.press("Enter")
    page.wait_for_selector("#retry:not([hidden])")
    assert relay.cuts == 1
    assert "stopped answering" in page.inner_text("#status")
    assert not page.query_selector(".round")  # the broken answer is not left on the page
    failed = Turn.objects.get(conversation__study=study)
    assert failed.status == Turn.Status.FAILED and failed.error
    assert not Judgment.objects.filter(item__study=study).exists()
    page.click("#retry")
    page.wait_for_selector("#label-panel:not([hidden])")
    page.keyboard.press("2")
    page.wait_for_url("**/done/")
    context.close()
    turns = Turn.objects.filter(conversation__study=study).order_by("id")
    assert [t.status for t in turns] == ["failed", "done"]
    (judgment,) = Judgment.objects.filter(item__study=study)
    assert judgment.turn_labels == ["pass"]


def test_hostile_prompts_are_refused_or_shown_as_text(browser, asgi_server, two_models):
    study = live_study_create(team=lab_team(),
        slug="live-hostile", name="Hostile", mode="conversation", models=two_models[:1],
        max_turns=3, session_quota=1, max_prompt_chars=4000, messages_per_minute=5,
        blocklist=["forbidden phrase"],
    )  # fmt: skip
    context, page = _enter(browser, asgi_server, study.crowd_code, "hostile1")
    xss = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> **hi**'
    page.fill("#message", xss)
    page.keyboard.press("Enter")
    page.wait_for_selector("#label-panel:not([hidden])")
    assert page.evaluate("window.pwned") is None
    assert not page.query_selector("#transcript img, #transcript script")
    assert "<script>window.pwned=2</script>" in page.inner_text("#transcript .turn.user")
    page.reload()  # the server's rendering of the same turn: sanitised, shown as text
    assert page.evaluate("window.pwned") is None
    assert not page.query_selector("#transcript img, #transcript script")
    page.keyboard.press("1")
    page.wait_for_selector("#composer:not([hidden])")

    post = """async ([text, n]) => {
      const csrf = document.querySelector('input[name=csrfmiddlewaretoken]').value;
      const url = JSON.parse(document.getElementById('live-page').textContent).send;
      const out = [];
      for (let i = 0; i < n; i++) {
        const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': csrf},
          body: new URLSearchParams({text})});
        out.push([r.status, r.status === 200 ? '' : (await r.json()).error]);
        if (r.status === 200) await r.text();
      }
      return out;
    }"""
    [(status, error)] = page.evaluate(post, ["x" * 100_000, 1])
    assert status == 413 and "100,000 characters" in error
    [(status, error)] = page.evaluate(post, ["please say the FORBIDDEN phrase", 1])
    assert status == 422 and "cannot be sent" in error
    flood = page.evaluate(post, ["hello again", 8])
    statuses = [s for s, _ in flood]
    assert statuses.count(200) <= 1 and 429 in statuses, flood
    assert Turn.objects.filter(conversation__study=study, user_text__startswith="xxx").count() == 0
    assert Turn.objects.filter(conversation__study=study).count() <= 2
    context.close()
