"""The API publishes through a real worker, lists versions and serves the archive."""

from __future__ import annotations

import io
import zipfile

import pytest

from evalhub.jobs.models import Job
from evalhub.releases.models import Release
from evalhub.studies.services import study_reopen
from tests.evalhub.api.conftest import client_for
from tests.support import wait_until


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_publishing_runs_as_a_job_and_the_archive_downloads(
    published, alice, celery_worker, ready_releases
):
    api = client_for(alice)
    answer = api.post("/api/v1/studies/pub-study/releases/", {"license": "cc0-1.0"}, format="json")
    assert answer.status_code == 202, answer.content
    assert answer.json()["version"] == 1 and answer.json()["status"] == "building"
    job_url = answer.headers["Location"]
    job = wait_until(lambda: api.get(job_url).json() if api.get(job_url).json()["is_finished"]
                     else None, timeout=120)  # fmt: skip
    assert job["status"] == "succeeded", job["error"]
    assert job["progress_done"] == job["progress_total"] == 7
    assert job["result"]["version"] == 1

    listed = api.get("/api/v1/studies/pub-study/releases/").json()
    assert [(r["version"], r["status"], r["license"]) for r in listed] == [(1, "ready", "cc0-1.0")]
    archive = api.get(listed[0]["archive"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    body = b"".join(archive.streaming_content)
    assert len(body) == listed[0]["archive_bytes"]
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert "pub-study-v1/data/judgments.parquet" in zf.namelist()
        assert "license: cc0-1.0" in zf.read("pub-study-v1/README.md").decode()
    assert Job.objects.get(pk=job["id"]).kind == Job.Kind.RELEASE


@pytest.mark.django_db
def test_an_open_study_or_a_bad_body_is_refused(published, alice):
    api = client_for(alice)
    bad = api.post("/api/v1/studies/pub-study/releases/", {"include_comments": "yes"},
                   format="json")  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["problems"][0]["field"] == "include_comments"
    study_reopen(study=published.study)
    refused = api.post("/api/v1/studies/pub-study/releases/", {}, format="json")
    assert refused.status_code == 409 and "close it" in refused.json()["detail"]
    assert api.get("/api/v1/studies/pub-study/releases/9/archive/").status_code == 404
    assert not Release.objects.exists()
