"""A bad release is refused before anything is written, with an error that names the file,
the row and the field: an altered file, a broken archive, and rows that break their column
(type, null, allowed values, JSON, ids that name nothing)."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.releases import files
from evalhub.releases.import_checks import ReleaseImportError
from evalhub.releases.importing import release_import
from evalhub.releases.services import release_build, release_publish
from evalhub.studies.models import Judgment, Rater, Study
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def release_copy(published, releases_dir, tmp_path) -> Path:
    """A writable copy of a fresh release's folder."""
    release = release_build(release=release_publish(study=published.study))
    folder = tmp_path / "pub-study-v1"
    shutil.copytree(release.path, folder)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Study, PromptSet, Prompt, Output, ModelEntry,
                                             Judgment, Rater))  # fmt: skip


def _rewrite(folder: Path, name: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Change one table and re-sign the folder, as someone editing a release by hand would."""
    path = folder / "data" / f"{name}.parquet"
    pq.write_table(change(pq.read_table(path)), path)
    files.checksums_write(folder)


def _set(column: str, row: int, value, type_: pa.DataType | None = None):
    def change(table: pa.Table) -> pa.Table:
        values = table[column].to_pylist()
        values[row - 1] = value
        index = table.column_names.index(column)
        return table.set_column(index, column, pa.array(values, type_ or table[column].type))

    return change


CASES = {
    "an item names an unknown prompt": (
        "items", _set("prompt_id", 3, "no-such-prompt"),
        "data/items.parquet, row 3, field prompt_id: 'no-such-prompt' is not found in column "
        "prompt_id of data/prompts.parquet",
    ),
    "a verdict outside the instrument": (
        "judgments", _set("verdict", 5, "maybe"),
        "data/judgments.parquet, row 5, field verdict: 'maybe' is not one of",
    ),
    "provenance that is not JSON": (
        "outputs", _set("provenance", 2, "{engine: vllm"),
        "data/outputs.parquet, row 2, field provenance: not valid JSON",
    ),
    "a judgment on an unknown item": (
        "judgments", _set("item_id", 7, 10**12),
        "data/judgments.parquet, row 7, field item_id: 1000000000000 is not found in column "
        "item_id of data/items.parquet",
    ),
    "a prompt without text": (
        "prompts", _set("text", 4, None),
        "data/prompts.parquet, row 4, field text: is empty (null)",
    ),
    "a missing column": (
        "judgments", lambda t: t.drop_columns(["order"]),
        "data/judgments.parquet, field order: missing column",
    ),
    "a column of the wrong type": (
        "outputs", lambda t: t.set_column(3, "sample_index", pc.cast(t["sample_index"], "string")),
        "data/outputs.parquet, field sample_index: expected int64, found string",
    ),
    "a repeated judgment id": (
        "judgments", lambda t: _set("judgment_id", 3, t["judgment_id"][1].as_py())(t),
        "data/judgments.parquet, row 3, field judgment_id: ",
    ),
    "a judge group too long to store": (
        "judgments", _set("judge_group", 2, "g" * 121),
        "data/judgments.parquet, row 2, field judge_group: longer than 120 characters",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_bad_row_names_its_file_row_and_field_and_writes_nothing(release_copy, case):
    name, change, message = CASES[case]
    _rewrite(release_copy, name, change)
    before = _counts()
    with pytest.raises(ReleaseImportError) as caught:
        release_import(team=lab_team(), folder=release_copy, slug="reviewer-copy")
    assert str(caught.value).startswith(message), caught.value
    assert _counts() == before


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def test_a_broken_archive_is_refused_before_it_is_unpacked(release_copy, tmp_path):
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    with pytest.raises(ReleaseImportError, match=r"^notes.zip, field archive: not a zip"):
        release_import(team=lab_team(), folder=not_zip, slug="x")
    two = _zip(tmp_path / "two.zip", {"a/checksums": b"", "b/checksums": b""})
    with pytest.raises(ReleaseImportError, match="expected one release folder, found 2: a, b"):
        release_import(team=lab_team(), folder=two, slug="x")
    escape = _zip(tmp_path / "escape.zip", {"a/../../evil": b"x"})
    with pytest.raises(ReleaseImportError, match="points outside the archive"):
        release_import(team=lab_team(), folder=escape, slug="x")
    partial = {
        f"v1/{p.relative_to(release_copy).as_posix()}": p.read_bytes()
        for p in release_copy.rglob("*")
        if p.is_file() and p.name != "judgments.parquet"
    }
    missing = _zip(tmp_path / "partial.zip", partial)  # fmt: skip
    with pytest.raises(ReleaseImportError, match=r"missing data/judgments.parquet"):
        release_import(team=lab_team(), folder=missing, slug="x")
    assert not Study.objects.filter(slug="x").exists()


def test_a_taken_or_malformed_slug_is_named(release_copy, published):
    with pytest.raises(ReleaseImportError, match=r"^field slug: a study 'pub-study' exists"):
        release_import(team=lab_team(), folder=release_copy, slug="pub-study")
    with pytest.raises(ReleaseImportError, match=r"^field slug: must be"):
        release_import(team=lab_team(), folder=release_copy, slug="no spaces")
