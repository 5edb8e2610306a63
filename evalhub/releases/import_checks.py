"""Checking a release before anything of it is written: the archive's layout, the checksums,
then every column of every parquet file (type, nulls, length, allowed values, JSON, the ids
that rows name in other files). The first problem stops the import with an error that names
the file, the row (1-based) and the field.

The checks run on whole Arrow columns (compute kernels), so a release of 100,000 judgments
is checked in about a second; only JSON text is parsed row by row."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import models

from evalhub.importing import InputError, RowProblem
from evalhub.instruments.models import Instrument
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt
from evalhub.releases import files
from evalhub.releases.tables import TABLES
from evalhub.studies.models import Assignment, Item, Judgment, Study

# An archive that unpacks to more than this is refused before it is unpacked (a zip bomb).
MAX_UNPACKED_BYTES = 4 << 30


class ReleaseImportError(InputError):
    """Not a complete, unaltered, loadable release (or its slug is taken). Names the file
    (`source`), and the row and field where there is one."""

    def __str__(self) -> str:
        p = self.problems[0]
        where = [self.source] if self.source else []
        where += [f"row {p.row}"] if p.row else []
        where += [f"field {p.field}"] if p.field else []
        return ", ".join(where) + f": {p.message}" if where else p.message


def import_error(
    message: str, *, file: str = "", row: int = 0, field: str = ""
) -> ReleaseImportError:
    return ReleaseImportError([RowProblem(row, message, field)], file)


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool = False
    field: models.Field | None = None  # the model field it lands in: max_length, choices
    unique: bool = False
    json: bool = False
    refers_to: tuple[str, str] | None = None  # (table, column) that must hold each value


def _f(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


INSTRUMENT_TEXT = ("name", "kind", "levels", "intro", "question", "gold_choice", "comment",
                   "judge_template", "credit")  # fmt: skip
STR, INT, FLOAT, BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
COLUMNS: dict[str, list[Column]] = {
    "prompts": [
        Column("prompt_id", STR, field=_f(Prompt, "external_id"), unique=True),
        Column("position", INT, field=_f(Prompt, "position")),
        Column("text", STR),
        Column("context", STR, json=True),
        Column("category", STR, field=_f(Prompt, "category")),
        Column("source", STR, field=_f(Prompt, "source")),
        Column("reference", STR),
    ],
    "outputs": [
        Column("output_id", INT, unique=True),
        Column("prompt_id", STR, refers_to=("prompts", "prompt_id")),
        Column("model", STR, field=_f(ModelEntry, "slug")),
        Column("sample_index", INT, field=_f(Output, "sample_index")),
        Column("text", STR),
        Column("turns", STR, json=True),
        Column("provenance", STR, json=True),
    ],
    "items": [
        Column("item_id", INT, unique=True),
        Column("prompt_id", STR, refers_to=("prompts", "prompt_id")),
        Column("target_output_id", INT, nullable=True, refers_to=("outputs", "output_id")),
        Column("baseline_output_id", INT, nullable=True, refers_to=("outputs", "output_id")),
        Column("target_model", STR, nullable=True, refers_to=("outputs", "model")),
        Column("baseline_model", STR, nullable=True, refers_to=("outputs", "model")),
        Column("is_gold", BOOL),
        Column("gold_answer", STR, nullable=True, field=_f(Item, "gold_answer")),
    ],
    "judgments": [
        Column("judgment_id", INT, unique=True),
        Column("item_id", INT, refers_to=("items", "item_id")),
        Column("judge_group", STR, field=_f(Judgment, "judge_group")),
        Column("rater", STR, nullable=True),
        Column("order", STR, field=_f(Judgment, "order")),
        Column("target_side", STR, nullable=True, field=_f(Assignment, "target_side")),
        Column("raw_choice", STR, nullable=True, field=_f(Judgment, "raw_choice")),
        Column("verdict", STR, nullable=True, field=_f(Judgment, "verdict")),
        Column("score", FLOAT, nullable=True),
        Column("preference", FLOAT, nullable=True),
        Column("turn_labels", STR, nullable=True, json=True),
        Column("time_on_task_ms", INT, nullable=True, field=_f(Judgment, "time_on_task_ms")),
        Column("too_fast", BOOL),
        Column("is_attention_check", BOOL),
        Column("parse_state", STR, nullable=True, field=_f(Judgment, "parse_state")),
        Column("excluded", BOOL),
        Column("exclusion_reason", STR, nullable=True),
        Column("raw_response", STR, nullable=True),
        Column("tokens_in", INT, nullable=True),
        Column("tokens_out", INT, nullable=True),
        Column("created_at", pa.timestamp("us", tz="UTC")),
    ],
    "instrument": [
        Column("slug", STR, field=_f(Instrument, "slug")),
        Column("version", INT, field=_f(Instrument, "version")),
        Column("content_hash", STR, field=_f(Instrument, "content_hash")),
        Column("choices", STR, json=True),
        *(Column(n, STR, field=_f(Instrument, n)) for n in INSTRUMENT_TEXT),
    ],
    "config": [
        Column("name", STR, field=_f(Study, "name")),
        Column("kind", STR, field=_f(Study, "kind")),
        Column("config", STR, json=True),
        Column("config_hash", STR, nullable=True, field=_f(Study, "config_hash")),
    ],
}
# Files of one row each.
SINGLE_ROW = ("instrument", "config")


def archive_check(path: Path, name: str = "") -> str:
    """The name of the one release folder inside the zip archive at `path`, after checking
    its layout (nothing is unpacked). `name` is what the file is called in errors."""
    name = name or path.name
    if not zipfile.is_zipfile(path):
        raise import_error("not a zip archive", file=name, field="archive")
    with zipfile.ZipFile(path) as zf:
        entries = zf.infolist()
    if not entries:
        raise import_error("the archive is empty", file=name, field="archive")
    tops = set()
    for entry in entries:
        parts = PurePosixPath(entry.filename).parts
        if entry.filename.startswith("/") or ".." in parts or "\\" in entry.filename:
            raise import_error(f"entry {entry.filename!r} points outside the archive",
                               file=name, field="archive")  # fmt: skip
        tops.add(parts[0])
    if len(tops) != 1:
        found = ", ".join(sorted(tops)[:5])
        raise import_error(f"expected one release folder, found {len(tops)}: {found}",
                           file=name, field="archive")  # fmt: skip
    top = tops.pop()
    present = {e.filename for e in entries}
    wanted = [files.CHECKSUMS, *(f"data/{t}.parquet" for t in TABLES)]
    missing = [w for w in wanted if f"{top}/{w}" not in present]
    if missing:
        raise import_error(f"missing {', '.join(missing)} (not a release archive?)",
                           file=name, field="archive")  # fmt: skip
    if sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise import_error(f"unpacks to more than {MAX_UNPACKED_BYTES >> 30} GiB",
                           file=name, field="archive")  # fmt: skip
    return top


def folder_check(folder: Path) -> None:
    """Every file named in `checksums` is there and unchanged."""
    if not (folder / files.CHECKSUMS).is_file():
        raise import_error("missing (not a release folder?)", file=files.CHECKSUMS)
    wrong = files.checksums_verify(folder)
    if wrong:
        raise import_error(f"does not match {files.CHECKSUMS} (altered or truncated)",
                           file=wrong[0])  # fmt: skip


def _first(mask: pa.ChunkedArray | pa.Array) -> int:
    """The 1-based row of the first true value of `mask` (nulls count as false), or 0."""
    index = pc.index(pc.fill_null(mask, False), True).as_py()
    return index + 1 if index >= 0 else 0


def _column_check(file: str, table: pa.Table, col: Column, tables: dict[str, pa.Table]) -> None:
    def fail(row: int, message: str) -> None:
        raise import_error(message, file=file, row=row, field=col.name)

    if col.name not in table.column_names:
        fail(0, "missing column")
    values = table[col.name]
    if values.type != col.type and not (pa.types.is_null(values.type) and col.nullable):
        fail(0, f"expected {col.type}, found {values.type}")
    if not col.nullable and (row := _first(pc.is_null(values))):
        fail(row, "is empty (null)")
    if pa.types.is_null(values.type):
        return
    if pa.types.is_string(col.type):
        if row := _first(pc.match_substring(values, "\x00")):
            fail(row, "holds a NUL character, which cannot be stored")
        max_length = getattr(col.field, "max_length", None)
        if max_length and (row := _first(pc.greater(pc.utf8_length(values), max_length))):
            fail(row, f"longer than {max_length} characters")
    if col.field is not None and col.field.choices:
        allowed = [str(v) for v, _ in col.field.choices]
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, pa.array(allowed))))
        if col.field.blank:  # stored blank, published as null or ""
            bad = pc.and_(bad, pc.not_equal(values, ""))
        if row := _first(bad):
            fail(row, f"{values[row - 1].as_py()!r} is not one of {', '.join(allowed)}")
    if isinstance(col.field, models.PositiveIntegerField | models.PositiveSmallIntegerField):
        high = 32767 if isinstance(col.field, models.PositiveSmallIntegerField) else 2**31 - 1
        if row := _first(pc.or_(pc.less(values, 0), pc.greater(values, high))):
            fail(row, f"{values[row - 1].as_py()} is outside 0..{high}")
    if col.unique and pc.count_distinct(values).as_py() != len(values):
        seen: set = set()
        for row, value in enumerate(values.to_pylist(), start=1):
            if value in seen:
                fail(row, f"{value!r} appears twice")
            seen.add(value)
    if col.refers_to:
        other, other_col = col.refers_to
        known = pc.unique(tables[other][other_col])
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, known)))
        if row := _first(bad):
            shown = values[row - 1].as_py()
            fail(row, f"{shown!r} is not found in column {other_col} of data/{other}.parquet")
    if col.json:
        for row, text in enumerate(values.to_pylist(), start=1):
            if text is not None:
                try:
                    json.loads(text)
                except ValueError as exc:
                    fail(row, f"not valid JSON ({exc})")


def tables_check(
    folder: Path, progress: Callable[[str], None] = lambda _: None
) -> dict[str, pa.Table]:
    """Every table of the release in `folder`, read and checked (see the module doc)."""
    tables: dict[str, pa.Table] = {}
    for name, columns in COLUMNS.items():
        file = f"data/{name}.parquet"
        progress(f"checking {file}")
        try:
            tables[name] = table = pq.read_table(folder / file)
        except (OSError, pa.ArrowException) as exc:
            raise import_error(f"not a readable parquet file ({exc})", file=file) from None
        if name in SINGLE_ROW and table.num_rows != 1:
            raise import_error(f"expected one row, found {table.num_rows}", file=file)
        if name == "items" and not table.num_rows:
            raise import_error("no items", file=file)
        for col in columns:
            _column_check(file, table, col, tables)
    return tables
