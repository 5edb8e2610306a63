"""Building a release: the files, the dataset card, checksums and the archive."""

from __future__ import annotations

import zipfile

import pyarrow.parquet as pq
import pytest
import yaml

from evalhub.releases import files
from evalhub.releases.models import Release
from evalhub.releases.services import ReleaseStateError, release_build, release_publish
from evalhub.releases.tables import TABLES
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_reopen
from tests.evalhub.releases.conftest import BASELINES, EXCLUSION_REASON, N_PROMPTS

pytestmark = pytest.mark.django_db


def _publish(study, **options) -> Release:
    release = release_publish(study=study, **options)
    return release_build(release=release)


def test_it_writes_every_table_the_card_and_checksums(published, releases_dir):
    release = _publish(published.study)
    assert release.status == Release.Status.READY
    folder = release.path
    for name in TABLES:
        assert (folder / "data" / f"{name}.parquet").is_file()
    assert files.checksums_verify(folder) == []
    listed = {line.split("  ")[1] for line in (folder / "checksums").read_text().splitlines()}
    assert listed == {"README.md", "config.json", *(f"data/{n}.parquet" for n in TABLES)}

    judgments = pq.read_table(folder / "data" / "judgments.parquet").to_pandas()
    assert len(judgments) == Judgment.objects.filter(item__study=published.study).count()
    excluded = judgments[judgments.excluded]
    assert len(excluded) == len(BASELINES) * N_PROMPTS
    assert set(excluded.exclusion_reason) == {EXCLUSION_REASON}
    assert not excluded.counted.any()
    humans = judgments[judgments.judge_kind == "human"]
    assert humans.rater.str.fullmatch(r"r-[0-9a-f]{16}").all()
    assert humans.rater.nunique() == 4
    # Sides: the left output is the target's exactly when the target was shown first.
    items = pq.read_table(folder / "data" / "items.parquet").to_pandas().set_index("item_id")
    target_left = humans.left_output_id.to_numpy() == items.loc[humans.item_id].target_output_id
    assert (target_left == (humans.target_side == "A").to_numpy()).all()
    assert "comment" not in judgments.columns

    aggregate = pq.read_table(folder / "data" / "item_aggregate.parquet").to_pandas()
    crowd = aggregate[aggregate.judge_group == "crowd"]
    assert len(crowd) == len(BASELINES) * N_PROMPTS and (crowd.n == 2).all()
    instrument = pq.read_table(folder / "data" / "instrument.parquet").to_pylist()[0]
    assert instrument["question"] and instrument["version"] >= 1

    card = (folder / "README.md").read_text()
    head = yaml.safe_load(card.split("---\n")[1])
    assert head["license"] == "cc-by-4.0"
    assert head["size_categories"] == ["n<1K"]
    assert {c["config_name"]: c["data_files"][0]["path"] for c in head["configs"]} == {
        n: f"data/{n}.parquet" for n in TABLES
    }
    assert EXCLUSION_REASON in card and "First version." in card and "@misc{" in card
    assert "| alpaca-65b | crowd |" in card  # a headline row with its interval
    assert "## Agreement" in card and "| crowd | llm:gpt-4 |" in card

    with zipfile.ZipFile(release.archive_path) as zf:
        names = set(zf.namelist())
    assert names == {f"pub-study-v1/{n}" for n in [*listed, "checksums"]}
    assert files.sha256_of(release.archive_path) == release.archive_sha256


def test_it_refuses_a_study_that_is_not_closed(published, releases_dir):
    study_reopen(study=published.study)
    with pytest.raises(ReleaseStateError, match="close it"):
        release_publish(study=published.study)
    assert not Release.objects.exists()


def test_an_absolute_study_publishes_its_labels(db, releases_dir):
    from evalhub.dashboards.cache import study_stats_invalidate
    from evalhub.studies.models import Rater, Study
    from evalhub.studies.services import study_close
    from tests.evalhub.dashboards.conftest import build_pairwise_study

    study, items = build_pairwise_study(
        slug="fpe", baselines=[], n_prompts=6, kind=Study.Kind.ABSOLUTE
    )
    labels = ["fail", "pass", "excellent", "pass", "pass", "excellent"]
    for n in range(2):
        rater = Rater.objects.create(group="crowd", external_id_hash=f"fpe-{n}")
        Judgment.objects.bulk_create(
            Judgment(item=item, rater=rater, judge_group="crowd", verdict=labels[i])
            for (_, i), item in items.items()
        )
    study_stats_invalidate(study.pk)
    study_close(study=study)
    study.refresh_from_db()
    release = _publish(study)

    items_table = pq.read_table(release.path / "data" / "items.parquet").to_pandas()
    assert items_table.baseline_output_id.isna().all()
    judgments = pq.read_table(release.path / "data" / "judgments.parquet").to_pandas()
    assert judgments.right_output_id.isna().all() and len(judgments) == 12
    aggregate = pq.read_table(release.path / "data" / "item_aggregate.parquet").to_pandas()
    assert aggregate.n_pass.sum() == 6 and aggregate.n_excellent.sum() == 4
    assert set(aggregate.majority) == set(labels)
    card = (release.path / "README.md").read_text()
    assert "baselines: none" in card and "| lima-65b | crowd | 12 | Fail 16.7% [" in card
