"""A researcher runs a live battle without a terminal: Chromium on the ASGI server
(uvicorn, which serves the whole site), the real `vllm serve` under two served names. The
researcher creates the study in the workspace (asking Arena's 4-way question), previews it
with the real models, launches it, two participants battle, and the researcher reads the
live monitor, the votes and Bradley-Terry with intervals."""

from __future__ import annotations

import pytest

from evalhub.instruments.services import presets_install
from evalhub.live.models import Conversation, Turn
from evalhub.studies.models import Judgment, Study
from tests.browser import assert_accessible
from tests.evalhub.live.test_browser import _assert_no_names, _enter

pytestmark = [pytest.mark.django_db(transaction=True)]


def _researcher(browser, base: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.goto(f"{base}/accounts/login/?next=/studies/new/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/studies/new/")
    return context, page


def test_a_researcher_creates_launches_and_reads_a_live_battle_in_the_browser(
    browser, asgi_server, two_models, alice
):
    presets_install()  # an earlier transactional test's flush removed the migration's rows
    context, page = _researcher(browser, asgi_server)
    page.click("#new-live-battle")
    page.wait_for_url("**/studies/new/live/?mode=battle")
    assert_accessible(page)
    assert page.is_checked("input[name=mode][value=battle]")
    page.fill("input[name=name]", "Arena in the browser")
    page.fill("input[name=slug]", "arena-browser")
    for model in two_models:
        page.check(f"input[name=models][value={model.slug}]")
    page.select_option("select[name=instrument]", "arena-4way")
    page.fill("input[name=max_turns]", "1")
    page.fill("input[name=session_quota]", "1")
    page.fill("input[name=max_tokens]", "32")
    page.fill("textarea[name=blocklist]", "forbidden")
    page.fill("input[name=completion_code]", "ARENA-UI")
    page.click("#live-study-save")
    page.wait_for_url("**/studies/arena-browser/")
    assert_accessible(page)
    # Preview: a real exchange with both models, anonymous, recording nothing.
    page.click("#live-preview-link")
    page.wait_for_url("**/live-preview/")
    page.fill("#preview-message", "Write a haiku about rain.")
    page.click("#preview-send")
    page.wait_for_selector(".preview-answer[data-side=B]")
    assert not page.query_selector("#preview-error")
    assert "Both are bad" in page.inner_text("#preview-question")
    _assert_no_names(page.inner_text("main"), two_models)
    assert_accessible(page)
    assert not Conversation.objects.exists() and not Turn.objects.exists()
    page.click("a[href='/studies/arena-browser/']")
    page.wait_for_url("**/studies/arena-browser/")
    page.click("#launch")
    page.wait_for_url("**/launch/")
    page.click("#confirm")
    page.wait_for_url("**/studies/arena-browser/")
    assert page.inner_text("#study-status") == "Launched"
    entry = page.input_value("#study-url")
    study = Study.objects.get(slug="arena-browser")
    assert f"/live/{study.crowd_code}/?PROLIFIC_PID=" in entry and "arena-browser" not in entry
    assert study.live.model_limits[two_models[0].slug] == {"max_tokens": 32}

    votes = {"p-one": "1", "p-two": "4"}  # A, then "both are bad" (Arena's 4-way)
    for pid, key in votes.items():
        rater_context, rater = _enter(browser, asgi_server, study.crowd_code, pid)
        rater.fill("#message", "Write a haiku about rain.")
        rater.keyboard.press("Enter")
        rater.wait_for_selector("#vote-panel:not([hidden])")
        rater.wait_for_function("!document.querySelector('.streaming')")
        _assert_no_names(rater.content(), two_models)
        with rater.expect_navigation():
            rater.keyboard.press(key)
        assert rater.url.endswith("/done/")
        assert not rater.problems
        rater_context.close()

    # Each streamed turn keeps where its time to first text went (ms from arrival).
    turns = list(Turn.objects.filter(conversation__study=study))
    assert len(turns) == 4
    for turn in turns:
        t = turn.provenance["timings_ms"]
        assert 0 <= t["body_read"] <= t["checks"] <= t["planned"] <= t["turn_open"]
        assert t["turn_open"] <= t["headers_sent"]
        assert t["headers_sent"] <= t["first_frame"], t

    page.reload()
    assert page.inner_text("#live-finished") == "2"
    assert page.inner_text("#live-failed") == "0"
    assert int(page.inner_text("#live-tokens")) > 0
    assert_accessible(page)
    judgments = Judgment.objects.filter(item__study=study)
    assert sorted(judgments.values_list("raw_choice", flat=True)) == ["A", "both_bad"]
    assert judgments.get(raw_choice="both_bad").verdict == Judgment.Verdict.TIE
    page.click("#dashboard-link")
    page.wait_for_url("**/dashboards/studies/arena-browser/")
    page.wait_for_selector("#chart-leaderboard .main-svg")  # plotly drew the BT chart
    data = page.evaluate("fetch('data.json').then(r => r.json())")
    board = {row["model"]: row for row in data["leaderboard"]["models"]}
    assert set(board) == {m.slug for m in two_models}
    assert all(row["lower"] <= row["rating"] <= row["upper"] for row in board.values())
    assert sum(row["n_battles"] for row in board.values()) == 4
    assert_accessible(page)
    assert not page.problems, page.problems
    context.close()
