"""The job page in a real browser: the bar follows the row without a reload; cancel works."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.test import Client

from evalhub.jobs.models import Job
from tests.evalhub.rating.test_browser import ARGS, chromium_installed

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_installed(), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def researcher_page(browser, live_server, alice) -> Iterator:
    client = Client()
    client.force_login(alice)
    context = browser.new_context()
    host = urlparse(live_server.url)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "domain": host.hostname, "path": "/"}])  # fmt: skip
    context.route(
        "**/*",
        lambda r: r.continue_() if urlparse(r.request.url).netloc == host.netloc else r.abort(),
    )
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def test_the_bar_follows_the_job_and_shows_its_error(researcher_page, live_server):
    page = researcher_page
    job = Job.objects.create(kind="generation", status=Job.Status.RUNNING, progress_total=10)
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.evaluate("window.__not_reloaded = true")
    assert page.locator("#job-count").text_content() == "0 / 10"

    Job.objects.filter(pk=job.pk).update(progress_done=4, progress_note="4/10 samples")
    page.wait_for_function("document.getElementById('job-count').textContent === '4 / 10'")
    assert page.locator("#job-bar").get_attribute("style") == "width: 40%;"
    assert page.locator("#job-note").text_content() == "4/10 samples"

    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="vLLM: engine died")
    page.wait_for_function("document.getElementById('job-status').textContent === 'Failed'")
    assert page.locator("#job-error").text_content() == "vLLM: engine died"
    assert page.locator("#job-error-box").is_visible()
    assert page.locator("#job-cancel").is_hidden()
    assert page.evaluate("window.__not_reloaded") is True
    assert page.problems == []


def test_the_cancel_button_stops_a_queued_job(researcher_page, live_server):
    page = researcher_page
    job = Job.objects.create(kind="generation")
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.click("#job-cancel")
    page.wait_for_function("document.getElementById('job-status').textContent === 'Cancelled'")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert page.problems == []
