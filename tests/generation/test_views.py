"""The page that starts a generation run."""

import pytest
from django.test import Client

from evalhub.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_a_researcher_starts_a_run_and_lands_on_its_job_page(alice, tiny_lima, make_prompt_set):
    make_prompt_set("page", 2)
    client = Client()
    client.force_login(alice)
    assert "top-p 0.9" in client.get("/generation/").content.decode()
    response = client.post(
        "/generation/",
        {"model": "tiny-lima", "prompt_set": "page", "samples": 5, "max_tokens": 64},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert job.params == {
        "model": "tiny-lima", "prompt_set": "page", "samples": 5, "overrides": {"max_tokens": 64},
    }  # fmt: skip
    assert job.requested_by == alice


def test_bad_input_is_shown_on_the_form(alice, tiny_lima, make_prompt_set):
    make_prompt_set("page-bad", 1)
    client = Client()
    client.force_login(alice)
    page = client.post("/generation/", {"model": "tiny-lima", "prompt_set": "page-bad",
                                        "samples": 0, "top_p": 3})  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in html
    assert "Ensure this value is less than or equal to 1." in html
    assert not Job.objects.exists()


def test_raters_cannot_start_runs(bob):
    client = Client()
    client.force_login(bob)
    assert client.get("/generation/").status_code == 403
