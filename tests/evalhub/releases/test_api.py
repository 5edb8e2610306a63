"""The API publishes through a real worker, lists versions and serves the archive; it
imports an archive as a new study through a real worker, and names what is wrong with a bad
one."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from evalhub.dashboards.selectors import study_results
from evalhub.jobs.models import Job
from evalhub.releases.importing import IMPORT_STEPS
from evalhub.releases.models import Release
from evalhub.releases.services import release_build, release_publish
from evalhub.studies.models import Study
from evalhub.studies.services import study_reopen
from tests.evalhub.api.conftest import client_for
from tests.evalhub.releases.conftest import archive_with_bad_row
from tests.support import wait_until


def _finished(api, url: str) -> dict:
    return wait_until(lambda: (job := api.get(url).json())["is_finished"] and job, timeout=120)


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


def _import(api, archive: Path, slug: str):
    with archive.open("rb") as f:
        return api.post("/api/v1/releases/import/", {"archive": f, "slug": slug},
                        format="multipart")  # fmt: skip


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_archive_imports_as_a_job_with_the_same_results(
    published, alice, celery_worker, releases_dir, tmp_path
):
    release = release_build(release=release_publish(study=published.study))
    api = client_for(alice)
    answer = _import(api, release.archive_path, "reviewer-copy")
    assert answer.status_code == 202, answer.content
    assert answer.json()["kind"] == "release_import"
    job = _finished(api, answer.headers["Location"])
    assert job["status"] == "succeeded", job["error"]
    assert job["progress_done"] == job["progress_total"] == IMPORT_STEPS
    copy = Study.objects.get(slug="reviewer-copy")
    assert job["result"]["study"] == "reviewer-copy"
    assert job["result"]["judgments"] == release.counts["judgments"]
    before, after = study_results(published.study), study_results(copy)
    for key in ("n_judgments", "pairwise", "agreement", "excluded"):
        assert after[key] == before[key], key
    assert not Path(job["params"]["path"]).exists()  # the upload is removed once imported

    edited = archive_with_bad_row(release, tmp_path)
    answer = _import(api, edited, "edited-copy")
    assert answer.status_code == 202, answer.content  # its layout is fine: the job finds it
    job = _finished(api, answer.headers["Location"])
    assert job["status"] == "failed"
    assert job["error"].startswith(
        "ReleaseImportError: data/items.parquet, row 3, field prompt_id: 'no-such-prompt'"
    ), job["error"][:300]
    assert not Study.objects.filter(slug="edited-copy").exists()
    assert not Path(job["params"]["path"]).exists()  # nor is the refused upload kept


@pytest.mark.django_db
def test_a_bad_archive_or_slug_is_refused_naming_the_field(published, alice, releases_dir,
                                                          tmp_path):  # fmt: skip
    api = client_for(alice)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    refused = _import(api, junk, "copy")
    assert refused.status_code == 409, refused.content
    problem = refused.json()["problems"][0]
    assert problem["field"] == "archive" and "not a zip archive" in problem["message"]
    assert refused.json()["detail"] == "junk.zip, field archive: not a zip archive"

    release = release_build(release=release_publish(study=published.study))
    taken = _import(api, release.archive_path, "pub-study")
    assert taken.status_code == 409 and taken.json()["problems"][0]["field"] == "slug"
    malformed = _import(api, release.archive_path, "no spaces")
    assert malformed.status_code == 400 and malformed.json()["problems"][0]["field"] == "slug"
    json_body = api.post("/api/v1/releases/import/", {"slug": "copy"}, format="json")
    assert json_body.status_code == 415
    assert not Job.objects.filter(kind=Job.Kind.RELEASE_IMPORT).exists()
