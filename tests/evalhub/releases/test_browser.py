"""The publish flow in a real browser: the study page's button, the form, the job's live
progress, the versions table and the archive download. The import flow: the studies page's
button, the upload form, the job's live progress, the new study; a broken archive and a bad
row named on the page. axe-core on each page; screenshots in docs/screenshots/."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from evalhub.dashboards.selectors import study_results
from evalhub.releases import files
from evalhub.releases.models import Release
from evalhub.releases.services import release_build, release_publish
from evalhub.studies.models import Study
from tests.browser import assert_accessible
from tests.evalhub.releases.conftest import archive_with_bad_row

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_researcher_publishes_and_downloads_a_release(
    researcher_page, live_server, published, celery_worker, ready_releases, tmp_path
):
    page = researcher_page
    page.goto(f"{live_server.url}/studies/pub-study/")
    page.click("#publish-link")
    page.wait_for_selector("#publish-form")
    assert page.locator("#no-releases").is_visible()
    assert_accessible(page)

    page.check("#id_withhold_model_names")
    page.click("#publish-start")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_function(
        "document.getElementById('job-status').textContent === 'Succeeded'", timeout=120_000
    )
    assert_accessible(page)

    page.goto(f"{live_server.url}/studies/pub-study/releases/")
    row = page.locator("#release-v1")
    assert "Ready" in row.text_content() and "First version" in row.text_content()
    assert_accessible(page)
    with page.expect_download() as download:
        page.click("#download-v1")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    release = Release.objects.get(study=published.study, version=1)
    assert saved.name == "pub-study-v1.zip"
    assert files.sha256_of(saved) == release.archive_sha256
    assert release.withhold_model_names
    with zipfile.ZipFile(saved) as zf:
        assert "pub-study-v1/checksums" in zf.namelist()
    assert page.problems == []


def _job_done(page, status: str) -> None:
    page.wait_for_url("**/jobs/*/")
    page.wait_for_function(
        f"document.getElementById('job-status').textContent === '{status}'", timeout=120_000
    )


def test_a_researcher_imports_a_release_as_a_new_study(
    researcher_page, live_server, published, celery_worker, releases_dir, tmp_path
):
    release = release_build(release=release_publish(study=published.study))
    page = researcher_page
    page.goto(f"{live_server.url}/studies/")
    page.click("#import-release")
    page.wait_for_selector("#import-form")
    assert_accessible(page)

    # Not a zip: refused on the form, naming the file, before any job.
    junk = tmp_path / "notes.zip"
    junk.write_text("just some notes")
    page.set_input_files("#id_archive", str(junk))
    page.fill("#id_slug", "reviewer-copy")
    page.click("#import-start")
    page.wait_for_selector("[data-field-error=archive]")
    error = page.locator("[data-field-error=archive]").text_content()
    assert error == "notes.zip, field archive: not a zip archive"
    _shot(page, "release-import-refused")
    assert_accessible(page)

    page.set_input_files("#id_archive", str(release.archive_path))
    page.fill("#id_slug", "reviewer-copy")
    page.click("#import-start")
    _job_done(page, "Succeeded")
    assert page.locator("#job-note").text_content() == "imported"
    assert "reviewer-copy" in page.locator("#job-result").text_content()
    _shot(page, "release-import-job")
    assert_accessible(page)

    page.goto(f"{live_server.url}/studies/reviewer-copy/")
    assert published.study.name in page.locator("h1").text_content()
    assert_accessible(page)
    copy = Study.objects.get(slug="reviewer-copy")
    assert study_results(copy)["pairwise"] == study_results(published.study)["pairwise"]

    # A row that names an unknown prompt: the job fails, naming file, row and field.
    page.goto(f"{live_server.url}/releases/import/")
    page.set_input_files("#id_archive", str(archive_with_bad_row(release, tmp_path)))
    page.fill("#id_slug", "edited-copy")
    page.click("#import-start")
    _job_done(page, "Failed")
    assert (
        page.locator("#job-error")
        .text_content()
        .startswith(
            "ReleaseImportError: data/items.parquet, row 3, field prompt_id: 'no-such-prompt'"
        )
    )
    _shot(page, "release-import-bad-row")
    assert_accessible(page)
    assert not Study.objects.filter(slug="edited-copy").exists()
    assert page.problems == []
