"""The job page in a real browser: the bar follows the row without a reload; cancel works."""

from __future__ import annotations

import pytest

from evalhub.jobs.models import Job
from tests.factories import lab_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bar_follows_the_job_and_shows_its_error(researcher_page, live_server):
    page = researcher_page
    job = Job.objects.create(
        kind="generation", status=Job.Status.RUNNING, progress_total=10, team=lab_team()
    )
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.evaluate("window.__not_reloaded = true")
    assert page.locator("#job-count").text_content() == "0 / 10"

    Job.objects.filter(pk=job.pk).update(progress_done=4, progress_note="4/10 samples")
    page.wait_for_function("document.getElementById('job-count').textContent === '4 / 10'")
    assert page.locator("#job-progress").evaluate("b => b.value / b.max") == 0.4
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
    job = Job.objects.create(kind="generation", team=lab_team())
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.click("#job-cancel")
    page.wait_for_function("document.getElementById('job-status').textContent === 'Cancelled'")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert page.problems == []
