"""Pushing to a hub with huggingface_hub's upload_folder, against a local stand-in (the
real Hub cannot be reached from here): every file arrives intact, tagged with the version."""

from __future__ import annotations

import pytest

from evalhub.jobs.models import Job
from evalhub.releases.hub import ReleasePushError
from evalhub.releases.models import Release
from evalhub.releases.services import release_build_job, release_publish
from tests.evalhub.releases.hub_standin import HubStandIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(settings, monkeypatch):
    import huggingface_hub.constants

    # Another test may have imported the client while HF_HUB_OFFLINE was set.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    stand_in = HubStandIn()
    settings.HF_TOKEN = "hf_test_token"
    settings.HF_ENDPOINT = stand_in.url
    yield stand_in
    stand_in.close()


def test_a_release_is_pushed_whole_and_tagged(published, releases_dir, hub):
    release = release_publish(study=published.study, hub_repo="lima-team/pub-study")
    job = Job.objects.get(pk=release.job_id)
    result = release_build_job(job)
    release.refresh_from_db()

    assert release.status == Release.Status.READY
    assert release.pushed_to == result["pushed_to"] == "lima-team/pub-study@c0ffee" + "0" * 34
    on_disk = {p.relative_to(release.path).as_posix(): p.read_bytes()
               for p in release.path.rglob("*") if p.is_file()}  # fmt: skip
    assert hub.files == on_disk  # README, checksums, config.json and the 7 parquet files
    assert len(hub.files) == 10
    assert hub.repos == [{"name": "pub-study", "organization": "lima-team",
                          "visibility": "private", "type": "dataset"}]  # fmt: skip
    assert [body["tag"] for _, body in hub.tags] == ["v1"]
    assert {auth for _, _, auth in hub.calls} == {"Bearer hf_test_token"}


def test_no_push_is_accepted_without_a_token(published, releases_dir, settings):
    settings.HF_TOKEN = ""
    with pytest.raises(ReleasePushError, match="HF_TOKEN"):
        release_publish(study=published.study, hub_repo="lima-team/pub-study")
    assert not Release.objects.exists()
