"""The job page, its JSON status and the cancel button (researchers only)."""

import pytest
from django.test import Client

from evalhub.jobs.models import Job
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(db):
    return Job.objects.create(
        team=lab_team(),
        kind="generation", status=Job.Status.RUNNING, progress_done=3, progress_total=12,
        progress_note="3/12 samples", params={"model": "tiny-lima"},
    )  # fmt: skip


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_progress_to_a_researcher(alice, job):
    page = logged_in(alice).get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Generation job #{job.pk}" in html
    assert 'max="12" value="3"' in html and "3 / 12" in html
    assert f'data-status-url="/jobs/{job.pk}/status.json"' in html
    assert "Cancel job" in html


def test_the_status_json_follows_the_row(alice, job):
    client = logged_in(alice)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED, progress_done=5, error="GenerationError: vLLM died"
    )
    status = client.get(f"/jobs/{job.pk}/status.json").json()
    assert status == {
        "id": job.pk, "kind": "generation", "status": "failed", "done": 5, "total": 12,
        "fraction": 0.4167, "note": "3/12 samples", "error": "GenerationError: vLLM died",
        "finished": True, "cancel_requested": False, "result": {}, "waiting": "",
    }  # fmt: skip


def test_cancel_asks_a_running_job_to_stop(alice, job):
    response = logged_in(alice).post(f"/jobs/{job.pk}/cancel/")
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.cancel_requested and job.status == Job.Status.RUNNING


def test_cancel_stops_a_queued_job_now(alice):
    queued = Job.objects.create(team=lab_team(), kind="generation")
    logged_in(alice).post(f"/jobs/{queued.pk}/cancel/")
    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED


def test_cancel_needs_post(alice, job):
    assert logged_in(alice).get(f"/jobs/{job.pk}/cancel/").status_code == 405


def test_raters_and_strangers_are_kept_out(bob, job):
    assert logged_in(bob).get(f"/jobs/{job.pk}/").status_code == 403
    assert logged_in(bob).get(f"/jobs/{job.pk}/status.json").status_code == 403
    assert logged_in(bob).post(f"/jobs/{job.pk}/cancel/").status_code == 403
    anonymous = Client().get(f"/jobs/{job.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url


def test_an_unknown_job_is_404(alice):
    assert logged_in(alice).get("/jobs/999999/").status_code == 404


def test_the_list_links_each_job(alice, job):
    html = logged_in(alice).get("/jobs/").content.decode()
    assert f'href="/jobs/{job.pk}/"' in html
