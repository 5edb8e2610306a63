"""Publishing again after a change makes v2; its card says what changed; v1 stays as it was."""

from __future__ import annotations

import pytest

from evalhub.crowd.services import raters_exclude
from evalhub.releases import files
from evalhub.releases.selectors import release_unchanged, releases_of_study
from evalhub.releases.services import release_build, release_publish
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_close, study_reopen

pytestmark = pytest.mark.django_db


def test_a_change_makes_v2_and_v1_stays_unchanged(published, releases_dir):
    study = published.study
    v1 = release_build(release=release_publish(study=study))
    v1_archive = files.sha256_of(v1.archive_path)
    v1_card = (v1.path / "README.md").read_text()

    study_reopen(study=study)
    study.refresh_from_db()
    raters_exclude(study=study, rater_ids=[published.raters[1].pk], reason="straight-lined")
    item = next(iter(published.items.values()))
    Judgment.objects.create(item=item, judge_group="crowd", verdict="target",
                            rater=published.raters[0], order="target_first")  # fmt: skip
    study_close(study=study)
    study.refresh_from_db()
    v2 = release_build(release=release_publish(study=study, include_comments=True))

    assert [r.version for r in releases_of_study(study=study)] == [2, 1]
    assert v2.path != v1.path
    card = (v2.path / "README.md").read_text()
    assert "Since v1:" in card
    assert "- 1 judgment added" in card
    assert "- 24 judgments newly excluded (see Exclusions)" in card
    assert "- rater comments now included" in card
    assert "straight-lined" in card
    assert v2.changes[0] == "1 judgment added"
    # v1: the same bytes, its checksums still match, its card untouched.
    assert release_unchanged(release=v1)
    assert files.sha256_of(v1.archive_path) == v1_archive == v1.archive_sha256
    assert (v1.path / "README.md").read_text() == v1_card


def test_publishing_twice_without_a_change_says_so(published, releases_dir):
    release_build(release=release_publish(study=published.study))
    v2 = release_build(release=release_publish(study=published.study))
    assert v2.version == 2 and v2.changes == []
    assert "- No change in the data." in (v2.path / "README.md").read_text()
