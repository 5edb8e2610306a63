"""No raw participant id, no rater free text unless asked for, no model names if withheld:
every file of a release is searched, parquet cells decoded and the archive opened."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from evalhub.releases.services import release_build, release_publish
from tests.evalhub.releases.conftest import BASELINES, COMMENT

pytestmark = pytest.mark.django_db


def release_texts(folder: Path, archive: Path) -> dict[str, str]:
    """Every file as text: raw bytes (latin-1, so nothing fails to decode), and for parquet
    also every cell decoded (compressed pages hide strings from a byte search)."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            found[str(path)] = path.read_bytes().decode("latin-1")
            if path.suffix == ".parquet":
                rows = pq.read_table(path).to_pylist()
                found[f"{path} (cells)"] = json.dumps(rows, default=str, ensure_ascii=False)
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            found[f"{archive}:{name}"] = zf.read(name).decode("latin-1")
    return found


def _hits(texts: dict[str, str], needles: list[str]) -> list[tuple[str, str]]:
    return [(n, where) for n in needles for where, text in texts.items() if n in text]


def test_no_raw_id_or_free_text_appears_in_any_file(published, releases_dir):
    release = release_build(release=release_publish(study=published.study))
    texts = release_texts(release.path, release.archive_path)
    assert len(texts) > 20  # 7 tables x 2, card, checksums, config.json, the archive's own
    assert _hits(texts, published.raw_ids) == []
    assert _hits(texts, [COMMENT, "Ingrid"]) == []
    rater_pks = {f'"rater": {r.pk}' for r in published.raters}
    assert _hits(texts, list(rater_pks)) == []


def test_comments_appear_only_when_ticked(published, releases_dir):
    release = release_build(release=release_publish(study=published.study, include_comments=True))
    texts = release_texts(release.path, release.archive_path)
    assert _hits(texts, [COMMENT])
    assert _hits(texts, published.raw_ids) == []


def test_model_names_can_be_withheld(published, releases_dir):
    release = release_build(
        release=release_publish(study=published.study, withhold_model_names=True)
    )
    texts = release_texts(release.path, release.archive_path)
    assert _hits(texts, ["lima-65b", *BASELINES]) == []
    outputs = pq.read_table(release.path / "data" / "outputs.parquet")
    assert set(outputs["model"].to_pylist()) == {"target", "baseline-1", "baseline-2"}
    assert "| baseline-1 | crowd |" in (release.path / "README.md").read_text()
