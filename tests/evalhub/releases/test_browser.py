"""The publish flow in a real browser: the study page's button, the form, the job's live
progress, the versions table and the archive download; axe-core on each page."""

from __future__ import annotations

import zipfile

import pytest

from evalhub.releases import files
from evalhub.releases.models import Release
from tests.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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
