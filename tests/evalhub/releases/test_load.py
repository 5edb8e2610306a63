"""A release loads anywhere: with `datasets` (offline) and pandas, giving the study's own
counts and win rates; and imported into another EvalHub, giving the same results."""

from __future__ import annotations

import pandas as pd
import pytest

from evalhub.dashboards.selectors import study_results
from evalhub.releases.import_checks import ReleaseImportError
from evalhub.releases.importing import release_import
from evalhub.releases.services import release_build, release_publish
from evalhub.studies.models import Judgment, Study
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


def _shares(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    out = {}
    for (baseline, group), rows in frame.groupby(["baseline_model", "judge_group"]):
        n = len(rows)
        share = rows.verdict.value_counts() / n
        out[(baseline, group)] = (n, *(float(share.get(v, 0.0)) for v in
                                       ("target", "tie", "baseline")))  # fmt: skip
    return out


def _study_shares(study: Study) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    return {
        (r["baseline"], r["judge_group"]): (r["n_judgments"], r["win_share"], r["tie_share"],
                                             r["loss_share"])
        for r in study_results(study)["pairwise"]
    }  # fmt: skip


def _llm_combined(frame: pd.DataFrame) -> pd.DataFrame:
    """An LLM judge's two orders per item as one verdict, under the study's policy "tie":
    the verdict where both orders agree, a tie where they do not."""
    llm = frame[frame.counted & (frame.judge_kind == "llm")]
    keys = ["item_id", "judge_group", "baseline_model"]
    agreed = llm.groupby(keys).verdict.agg(lambda v: v.iloc[0] if v.nunique() == 1 else "tie")
    return agreed.reset_index()


def test_datasets_and_pandas_give_the_studys_counts_and_win_rates(
    published, releases_dir, tmp_path, monkeypatch
):
    import datasets.config
    import huggingface_hub.constants
    from datasets import load_dataset

    # Offline, and put back afterwards: both packages read the variable once, at import.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)

    release = release_build(release=release_publish(study=published.study))
    data = release.path / "data"
    cache = str(tmp_path / "hf-cache")
    judgments = load_dataset(
        "parquet", data_files=str(data / "judgments.parquet"), cache_dir=cache
    )["train"]
    items = load_dataset("parquet", data_files=str(data / "items.parquet"), cache_dir=cache)
    assert judgments.num_rows == Judgment.objects.filter(item__study=published.study).count()
    # The card's `configs` are what the Hub (and load_dataset on the folder) read.
    by_card = load_dataset(str(release.path), "judgments", cache_dir=cache)["train"]
    assert by_card.num_rows == judgments.num_rows
    from_datasets = judgments.to_pandas().merge(
        items["train"].to_pandas()[["item_id", "baseline_model"]], on="item_id"
    )
    from_pandas = pd.read_parquet(data / "judgments.parquet").merge(
        pd.read_parquet(data / "items.parquet")[["item_id", "baseline_model"]], on="item_id"
    )
    expected = _study_shares(published.study)
    assert len(expected) == 6  # crowd, author and the LLM judge, against both baselines
    for frame in (from_datasets, from_pandas):
        counted = frame[frame.counted & (frame.judge_kind == "human")]
        found = _shares(pd.concat([counted, _llm_combined(frame)]))
        assert found.keys() == expected.keys()
        for key, value in expected.items():
            assert found[key] == pytest.approx(value), key


@pytest.mark.parametrize("source", ["folder", "archive"])
def test_an_imported_release_gives_the_same_results(published, releases_dir, source):
    release = release_build(release=release_publish(study=published.study))
    path = release.path if source == "folder" else release.archive_path
    copy = release_import(team=lab_team(), folder=path, slug="reviewer-copy")
    before, after = study_results(published.study), study_results(copy)
    assert copy.status == Study.Status.CLOSED
    for key in ("n_judgments", "pairwise", "agreement", "excluded", "weighted"):
        assert after[key] == before[key], key
    assert copy.items.count() == published.study.items.count()


def test_an_altered_release_is_refused(published, releases_dir, tmp_path):
    import shutil

    release = release_build(release=release_publish(study=published.study))
    altered = tmp_path / "altered"
    shutil.copytree(release.path, altered)
    (altered / "data" / "judgments.parquet").chmod(0o644)
    (altered / "data" / "judgments.parquet").write_bytes(b"not parquet")
    with pytest.raises(
        ReleaseImportError, match=r"^data/judgments.parquet: does not match checksums"
    ):
        release_import(team=lab_team(), folder=altered, slug="tampered")
    assert not Study.objects.filter(slug="tampered").exists()
