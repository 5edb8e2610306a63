"""A researcher runs LIMA's human study in the browser alone: upload, study, preview,
launch, a Prolific participant rates by keyboard, the monitor, the LLM judge (a real
`vllm serve`), the dashboard, the exports, close. Real Postgres, Redis, Celery worker and
Chromium; axe-core on every page; the screenshots illustrate the README's walkthrough."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.test import Client

from evalhub.jobs.models import Job
from evalhub.outputs.models import Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Judgment, Study
from tests.browser import assert_accessible

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PROLIFIC = "https://app.prolific.com/"
QUESTIONS = [
    "How can I make my coffee taste less bitter?",
    "Explain photosynthesis to a ten-year-old.",
    "Write a short poem about the sea.",
]
LIMA_JSONL = "\n".join(json.dumps({"conversations": [q], "source": "test"}) for q in QUESTIONS)
ALPACA_EVAL = json.dumps(
    [{"instruction": q, "output": f"A careful, complete answer to: {q}", "generator": "lima-65b"}
     for q in QUESTIONS]
    + [{"instruction": q, "output": "No.", "generator": "davinci-003"} for q in QUESTIONS]
)  # fmt: skip


def _context(browser, live_server, **kwargs):
    local = urlparse(live_server.url).netloc
    # wait_for_function evaluates strings, which the site's CSP refuses (test_csp checks it).
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, **kwargs
    )

    def route(r):
        if urlparse(r.request.url).netloc == local:
            return r.continue_()
        if r.request.url.startswith(PROLIFIC):
            return r.fulfill(status=200, content_type="text/html", body="<h1>Prolific</h1>")
        return r.abort()

    context.route("**/*", route)
    return context


@pytest.fixture
def researcher(browser, live_server, alice, settings, tmp_path) -> Iterator:
    """A fresh browser page for alice, not yet logged in; uploads wait in tmp_path."""
    settings.UPLOAD_DIR = tmp_path / "uploads"
    context = _context(
        browser, live_server, accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )  # fmt: skip
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def visit_checked(page) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page)


def log_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/studies/")
    visit_checked(page)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/studies/")


def upload(page, live_server, tmp_path, name, content, kind, prompt_set, model="") -> None:
    page.goto(f"{live_server.url}/uploads/")
    visit_checked(page)
    page.check(f"input[name=kind][value={kind}]")
    path = tmp_path / name
    path.write_text(content)
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=prompt_set]", prompt_set)
    if model:
        page.fill("input[name=model]", model)
    page.click("#upload-preview")
    page.wait_for_selector("#preview")
    visit_checked(page)


def wait_for_job(page) -> None:
    page.wait_for_url(re.compile(r".*/jobs/\d+/$"))
    visit_checked(page)
    page.wait_for_function(
        "['Succeeded', 'Failed'].includes(document.getElementById('job-status').textContent)",
        timeout=240_000,
    )
    assert page.text_content("#job-status") == "Succeeded", page.text_content("#job-error")


@pytest.mark.worker
@pytest.mark.vllm
def test_a_researcher_runs_a_whole_study_in_the_browser(
    researcher, browser, live_server, celery_worker, vllm_server, tmp_path
):
    page = researcher
    # 1. Log in.
    log_in(page, live_server)
    visit_checked(page)
    shot(page, "01-studies")

    # 2. A LIMA JSONL prompt set: preview, then the import job.
    upload(page, live_server, tmp_path, "lima_test.jsonl", LIMA_JSONL, "prompts", "lima-test")
    assert page.text_content("#preview-format") == "LIMA JSONL"
    assert page.text_content("#preview-rows") == "3"
    assert not PromptSet.objects.exists()
    shot(page, "02-upload-preview")
    page.click("#upload-confirm")
    wait_for_job(page)
    assert Prompt.objects.filter(prompt_set__slug="lima-test").count() == 3

    # 3. Two models' outputs in one AlpacaEval file.
    upload(page, live_server, tmp_path, "model_outputs.json", ALPACA_EVAL, "outputs", "lima-test")
    assert page.text_content("#preview-format") == "AlpacaEval JSON"
    assert page.text_content("#preview-unmatched") == "0"
    models = page.locator("#preview-models tbody td:first-child").all_text_contents()
    assert models == ["davinci-003", "lima-65b"]
    shot(page, "03-outputs-preview")
    page.click("#upload-confirm")
    wait_for_job(page)
    assert Output.objects.count() == 6

    # 4. A pairwise study: the form's plan, save, preview as a rater, launch, copy the link.
    page.goto(f"{live_server.url}/studies/new/")
    page.fill("input[name=name]", "LIMA vs DaVinci003")
    page.fill("input[name=slug]", "lima-vs-davinci")
    page.select_option("select[name=prompt_set]", "lima-test")
    page.select_option("select[name=target_model]", "lima-65b")
    page.check("input[name=baselines][value=davinci-003]")
    page.fill("input[name=raters_per_item]", "1")
    page.fill("input[name=attention_check_rate]", "0")
    page.fill("input[name=completion_code]", "LIMA2023")
    page.wait_for_function("document.getElementById('plan-judgments').textContent === '3'")
    assert page.text_content("#plan-covered") == "3 of 3"
    visit_checked(page)
    shot(page, "04-new-study")
    page.click("#study-save")
    page.wait_for_url("**/studies/lima-vs-davinci/")
    visit_checked(page)

    page.click("#preview-link")
    visit_checked(page)
    assert "nothing you do here is recorded" in page.text_content(".preview-banner")
    with page.expect_navigation():
        page.click("button[type=submit]")
    for _ in QUESTIONS:
        page.wait_for_selector("#rate-form")
        visit_checked(page)
        page.keyboard.press("1")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    visit_checked(page)
    shot(page, "05-preview-done")
    assert not Judgment.objects.exists() and not Study.objects.get().items.exists()

    page.goto(f"{live_server.url}/studies/lima-vs-davinci/")
    page.click("#launch")
    visit_checked(page)
    page.click("#confirm")
    page.wait_for_url("**/studies/lima-vs-davinci/")
    visit_checked(page)
    assert Study.objects.get().status == "launched"
    page.click("[data-copy=study-url]")
    link = page.evaluate("navigator.clipboard.readText()")
    code = Study.objects.get().crowd_code  # the link names neither the slug nor the team
    assert link.endswith(f"/s/{code}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}"
                         "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}")  # fmt: skip
    shot(page, "06-launched")

    # 5. A Prolific participant rates every item by keyboard, in a second context.
    rater_context = _context(browser, live_server)
    rater = rater_context.new_page()
    participant = (link.replace("{{%PROLIFIC_PID%}}", "P1").replace("{{%STUDY_ID%}}", "S1")
                   .replace("{{%SESSION_ID%}}", "X1"))  # fmt: skip
    rater.goto(participant)
    visit_checked(rater)
    rater.wait_for_function("document.activeElement && document.activeElement.type === 'submit'")
    with rater.expect_navigation():
        rater.keyboard.press("Enter")
    for n, _ in enumerate(QUESTIONS):
        rater.wait_for_selector("#rate-form")
        visit_checked(rater)
        rater.keyboard.press("1")
        if n == len(QUESTIONS) - 1:
            rater.keyboard.press("Enter")
        else:
            with rater.expect_navigation():
                rater.keyboard.press("Enter")
    rater.wait_for_url(f"{PROLIFIC}**", timeout=10_000)
    assert "cc=LIMA2023" in rater.url
    rater_context.close()

    # 6. The monitor shows the judgments arrive, without a reload.
    page.evaluate("window.__not_reloaded = true")
    page.wait_for_function("document.getElementById('monitor').dataset.judgments === '3'")
    assert page.evaluate("window.__not_reloaded") is True
    assert page.text_content("[data-key=judgments_per_minute]") != "0"
    shot(page, "07-monitor")

    # 7. Register the test `vllm serve` as a judge, see the estimate, run it.
    page.goto(f"{live_server.url}/judges/?next=/studies/lima-vs-davinci/")
    visit_checked(page)
    page.fill("#judge-form input[name=slug]", "tiny-lima")
    page.fill("#judge-form input[name=name]", "Tiny LIMA judge")
    page.fill("#judge-form input[name=base_url]", vllm_server)
    page.fill("#judge-form input[name=model]", "tiny")
    page.select_option("#judge-form select[name=template]", "lima_pairwise")
    # A local server needs no key; a hosted one names its variable here, never the key.
    page.click("#judge-form button[type=submit]")
    page.wait_for_url("**/studies/lima-vs-davinci/")
    page.select_option("select[name=judge]", "tiny-lima")
    page.wait_for_function("document.getElementById('judge-estimate').dataset.ready === '1'")
    assert page.text_content("#judge-estimate").startswith("6 calls")
    visit_checked(page)
    shot(page, "08-judge")
    page.click("#judge-start")
    wait_for_job(page)
    assert Job.objects.get(kind="judge").status == "succeeded"

    # 8. The dashboard shows both groups.
    page.goto(f"{live_server.url}/dashboards/studies/lima-vs-davinci/")
    page.wait_for_selector("#chart-wtl .main-svg")
    visit_checked(page)
    groups = page.locator("#filters input[name=group]").evaluate_all("els => els.map(e => e.value)")
    assert groups == ["crowd", "llm:tiny-lima"]
    shot(page, "09-dashboard")

    # 9. Figure 1 as SVG and the judgments as CSV.
    with page.expect_download() as svg_download:
        page.click("[aria-label='Download wtl as SVG']")
    svg = Path(svg_download.value.path()).read_text()
    assert svg_download.value.suggested_filename == "lima-vs-davinci-wtl.svg"
    assert svg.startswith("<svg") and 'width="1000"' in svg and "davinci-003" in svg
    page.goto(f"{live_server.url}/studies/lima-vs-davinci/")
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert len(rows) == 3 + 6
    assert {r["judge_group"] for r in rows} == {"crowd", "llm:tiny-lima"}
    assert {r["baseline_model"] for r in rows} == {"davinci-003"}

    # 10. Close the study.
    page.click("#close")
    visit_checked(page)
    page.click("#confirm")
    page.wait_for_url("**/studies/lima-vs-davinci/")
    assert page.text_content("#study-status") == "Closed"
    assert Study.objects.get().status == "closed"
    shot(page, "10-closed")
    assert not page.problems


def test_a_bad_file_shows_its_rows_and_writes_nothing(researcher, live_server, tmp_path):
    page = researcher
    log_in(page, live_server)
    bad = '{"conversations": ["Fine?"]}\n{"conversations": []}\nnot json\n'
    upload(page, live_server, tmp_path, "bad.jsonl", bad, "prompts", "broken")
    rows = page.locator("#problems tbody tr").all_text_contents()
    assert len(rows) == 1 and "3" in rows[0] and "not valid JSON" in rows[0]
    assert page.locator("#upload-confirm").count() == 0
    fixed = '{"conversations": ["Fine?"]}\n{"conversations": []}\n'
    upload(page, live_server, tmp_path, "bad.jsonl", fixed, "prompts", "broken")
    cells = page.locator("#problems tbody tr td").all_text_contents()
    assert cells == ["2", "conversations", "must be a non-empty list of strings"]
    shot(page, "11-bad-file")
    assert not PromptSet.objects.exists() and not Job.objects.exists()


def test_a_study_whose_target_has_no_outputs_is_refused(researcher, live_server):
    from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, PromptSetFactory

    prompt_set = PromptSetFactory(slug="eval")
    baseline = ModelEntryFactory(slug="davinci")
    ModelEntryFactory(slug="silent")
    for _ in range(2):
        OutputFactory(prompt=PromptFactory(prompt_set=prompt_set), model=baseline)
    page = researcher
    log_in(page, live_server)
    page.goto(f"{live_server.url}/studies/new/")
    page.fill("input[name=name]", "Silent")
    page.fill("input[name=slug]", "silent")
    page.select_option("select[name=prompt_set]", "eval")
    page.select_option("select[name=target_model]", "silent")
    page.check("input[name=baselines][value=davinci]")
    page.wait_for_function(
        "document.getElementById('plan-error').textContent.startsWith('No prompt has an output')"
    )
    assert page.text_content("#plan-covered") == "0 of 2"
    page.click("#study-save")
    page.wait_for_selector("[data-field-error=target_model]")
    visit_checked(page)
    assert "has an output from every chosen model" in page.text_content(
        "[data-field-error=target_model]"
    )
    assert not Study.objects.exists()


def test_a_rater_account_is_refused_the_workspace(browser, live_server, bob):
    client = Client()
    client.force_login(bob)
    context = _context(browser, live_server)
    host = urlparse(live_server.url)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "domain": host.hostname, "path": "/"}])  # fmt: skip
    page = context.new_page()
    for path in ("/studies/", "/studies/new/", "/uploads/", "/judges/", "/jobs/", "/training/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        assert page.locator(".nav-links").count() == 0
    context.close()
