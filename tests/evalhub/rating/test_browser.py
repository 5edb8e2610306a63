"""The rating pages in a real browser: Playwright driving Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from evalhub.outputs.services import output_fields
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_launch
from tests.browser import tasks_run
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, StudyFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
# happen between browser steps, never concurrently with them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
PROLIFIC = "https://app.prolific.com/"

LONG_ANSWER = """## Prepare before you ask
- **Research market pay.** Look up salary ranges for your role and location.
- **Document your impact.** List concrete results from the last two years.

## Have the conversation
1. Request a dedicated meeting.
2. Lead with your value, then state your number.

```python
def ask(manager, number):
    return manager.meet(topic="compensation", ask=number)
```
"""


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A page that can reach only the live server; Prolific is answered locally."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    local = urlparse(live_server.url).netloc

    def route(r):
        url = urlparse(r.request.url)
        if url.netloc == local:
            return r.continue_()
        if r.request.url.startswith(PROLIFIC):
            return r.fulfill(status=200, content_type="text/html", body="<h1>Prolific</h1>")
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def start_by_keyboard(page) -> None:
    """On the consent page: the "I agree" button has the focus; Enter starts."""
    page.wait_for_function("document.activeElement && document.activeElement.type === 'submit'")
    page.keyboard.press("Enter")


def study_with(answers: list[tuple[str, str, str]], **fields):
    """A launched pairwise study: one prompt per (question, target answer, baseline answer)."""
    fields.setdefault("attention_check_rate", 0.0)
    study = StudyFactory(**fields)
    baseline = ModelEntryFactory(slug=f"secret-baseline-model-{study.pk}")
    study.baselines.set([baseline])
    for question, mine, theirs in answers:
        prompt = PromptFactory(prompt_set=study.prompt_set, text=question)
        OutputFactory(prompt=prompt, model=study.target_model, **output_fields(mine))
        OutputFactory(prompt=prompt, model=baseline, **output_fields(theirs))
    return study_launch(study=study)


def test_a_crowd_rater_finishes_by_keyboard_alone_and_lands_on_prolific(page, live_server):
    study = study_with(
        [(f"Question {n}: how do I ask for a raise?", LONG_ANSWER, "Just ask.") for n in range(4)],
        session_quota=3,
    )
    page.goto(f"{live_server.url}/s/{study.crowd_code}/?PROLIFIC_PID=kb1&STUDY_ID=s&SESSION_ID=x")
    assert "super-intelligent AI assistant" in page.inner_text("main")
    start_by_keyboard(page)  # "I agree - start" has the focus
    for n, key in enumerate(["1", "2", "3"], start=1):
        page.wait_for_selector(f"text=Item {n} of 3")
        page.wait_for_load_state("load")  # the keyboard script is attached
        page.keyboard.press(key)
        assert page.locator("input[name=choice]:checked").count() == 1
        page.keyboard.press("Enter")
    page.wait_for_url(f"{PROLIFIC}**", timeout=10_000)
    assert parse_qs(urlparse(page.url).query)["cc"] == ["DONE123"]
    assert list(Judgment.objects.order_by("id").values_list("raw_choice", flat=True)) == [
        "A", "B", "tie"
    ]  # fmt: skip
    assert all(j.time_on_task_ms is not None for j in Judgment.objects.all())


def test_untrusted_output_runs_nothing(page, live_server):
    evil = (
        "<script>window.__xss = 1; alert('script')</script>\n\n"
        "<img src=x onerror=\"window.__xss = 2; alert('img')\">\n\n"
        "[click me](javascript:window.__xss=3;alert('link'))\n\n"
        "![pixel](https://tracker.example/p.png)"
    )
    study = study_with([("<script>alert('prompt')</script> Hello?", evil, evil)])
    page.goto(f"{live_server.url}/s/{study.crowd_code}/?PROLIFIC_PID=xss1")
    start_by_keyboard(page)
    page.wait_for_selector("text=Item 1 of")
    page.wait_for_load_state("load")
    answers = page.locator(".answer .md")
    assert answers.count() == 2
    assert "click me" in answers.first.inner_text()
    assert page.locator('[href^="javascript"], [src^="javascript"]').count() == 0
    page.get_by_text("click me").first.click()  # whatever it became, clicking runs nothing
    tasks_run(page)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    assert page.locator(".md script, .md img, .md [onerror]").count() == 0
    assert "<script>" in answers.first.inner_text()  # shown as text


def test_the_pairwise_form_looks_right(page, live_server):
    study = study_with([("How should I ask my manager for a raise after two years?",
                         LONG_ANSWER, "Ask your manager for more money.")])  # fmt: skip
    page.goto(f"{live_server.url}/s/{study.crowd_code}/?PROLIFIC_PID=shot1")
    start_by_keyboard(page)
    page.wait_for_selector("text=Item 1 of")
    page.wait_for_load_state("load")  # stylesheets applied before anything is measured
    page.keyboard.press("1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "pairwise.png"), full_page=True)
    a, b = (page.locator(".answer").nth(i).bounding_box() for i in (0, 1))
    assert abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"] + a["width"]  # side by side
    assert page.locator("pre code").count() == 1
    # On a phone the answers stack.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("document.querySelector('.answers').offsetWidth < 400")
    a, b = (page.locator(".answer").nth(i).bounding_box() for i in (0, 1))
    assert b["y"] >= a["y"] + a["height"]
    page.screenshot(path=str(SCREENSHOTS / "pairwise-narrow.png"), full_page=True)
    html = page.content()
    assert "secret-baseline-model" not in html and study.target_model.slug not in html
