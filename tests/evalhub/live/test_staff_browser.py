"""A staff live battle in Chromium, on the ASGI server with the real `vllm serve`: the
researcher makes it for the lab's staff in the workspace, launches it, and a logged-in
colleague (bob, a rater) takes part from the staff link with no Prolific id, the answers
streaming as for the crowd. The study page then counts the battle and its spend."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalhub.live.models import Turn
from evalhub.rating.models import RaterSession
from evalhub.studies.models import Judgment, Study
from tests.browser import assert_accessible
from tests.evalhub.live.test_browser import _assert_no_names
from tests.evalhub.live.test_researcher_browser import _researcher

pytestmark = [pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _login(browser, base: str, username: str, password: str, path: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.goto(f"{base}/accounts/login/?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return context, page


def test_a_colleague_battles_in_a_staff_study_without_prolific(
    browser, asgi_server, two_models, alice, bob
):
    context, page = _researcher(browser, asgi_server)
    page.click("#new-live-battle")
    page.wait_for_url("**/studies/new/live/?mode=battle")
    page.check("input[name=participants][value=staff]")
    page.fill("input[name=name]", "Lab arena")
    page.fill("input[name=slug]", "lab-arena")
    for model in two_models:
        page.check(f"input[name=models][value={model.slug}]")
    page.fill("input[name=max_turns]", "1")
    page.fill("input[name=session_quota]", "1")
    page.fill("input[name=max_tokens]", "24")
    page.click("#live-study-save")
    page.wait_for_url("**/studies/lab-arena/")
    page.click("#launch")
    page.wait_for_url("**/launch/")
    page.click("#confirm")
    page.wait_for_url("**/studies/lab-arena/")
    assert not page.query_selector("#prolific")
    link = page.input_value("#staff-url")
    code = Study.objects.get(slug="lab-arena").crowd_code  # the link names no slug
    assert link == f"{asgi_server}/live/{code}/staff/"

    staff_context, staff = _login(browser, asgi_server, "bob", "bob-password-1",
                                  f"/live/{code}/staff/")  # fmt: skip
    staff.wait_for_url(f"**/live/{code}/chat/")  # no consent page, no Prolific id
    assert_accessible(staff)
    staff.fill("#message", "Write a haiku about rain.")
    staff.keyboard.press("Enter")
    staff.wait_for_selector("#vote-panel:not([hidden])")
    staff.wait_for_function("!document.querySelector('.streaming')")
    _assert_no_names(staff.content(), two_models)
    with staff.expect_navigation():
        staff.keyboard.press("1")
    assert staff.url.endswith(f"/live/{code}/done/")
    assert "Your answers are saved" in staff.inner_text("main")
    assert "Prolific" not in staff.content()
    assert not staff.problems, staff.problems
    staff_context.close()

    study = Study.objects.get(slug="lab-arena")
    session = RaterSession.objects.get(study=study)
    assert (session.rater.user, session.rater.group) == (bob, "author")
    assert Judgment.objects.get(item__study=study).judge_group == "author"
    streamed = Turn.objects.filter(conversation__study=study, status="done")
    assert streamed.count() == 2 and all(t.provenance["model_name"] for t in streamed)

    page.reload()
    assert page.inner_text("#live-finished") == "1"
    assert int(page.inner_text("#live-prompt-tokens")) > 0
    assert page.inner_text("#live-spend") == "no price set"  # a local vllm serve: no price
    assert "No price for tiny, tiny-b" in page.inner_text("#live-unpriced")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "live-staff-study.png"), full_page=True)
    assert not page.problems, page.problems
    context.close()
