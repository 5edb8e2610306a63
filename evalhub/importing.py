"""Reading import files into numbered rows, with errors that name the file and line.

Imports and API submissions both turn their input into (row_number, dict) pairs and hand
them to one service, so the checks are written once."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = tuple[int, dict[str, Any]]


@dataclass
class RowProblem:
    row: int
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = f"line {self.row}" if self.row else "input"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass
class InputError(Exception):
    """Bad input. Carries every problem found, each naming its row (line) and field."""

    problems: list[RowProblem] = field(default_factory=list)
    source: str = ""

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        shown = "; ".join(str(p) for p in self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        return f"{head}{shown}{more}"

    @classmethod
    def single(cls, row: int, message: str, field: str = "", source: str = "") -> InputError:
        return cls([RowProblem(row, message, field)], source)


def parse_jsonl(text: str) -> list[Row]:
    """Rows of a JSON Lines text, numbered from 1; blank lines are skipped."""
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError.single(number, f"not valid JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise InputError.single(number, "each line must be a JSON object")
        rows.append((number, value))
    if not rows:
        raise InputError.single(0, "the input is empty")
    return rows


def parse_json_array(text: str) -> list[Row]:
    """Rows of a JSON array of objects, numbered from 1 by position in the array."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.single(exc.lineno, f"not valid JSON ({exc.msg})") from None
    if not isinstance(value, list):
        raise InputError.single(0, "expected a JSON array of objects")
    if not value:
        raise InputError.single(0, "the input is empty")
    rows: list[Row] = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise InputError.single(number, "each array element must be a JSON object")
        rows.append((number, item))
    return rows


def parse_rows(text: str) -> list[Row]:
    """JSON array or JSON Lines, told apart by the first non-blank character."""
    if not text.strip():
        raise InputError.single(0, "the input is empty")
    return parse_json_array(text) if text.lstrip().startswith("[") else parse_jsonl(text)


def parse_csv(text: str) -> list[Row]:
    """Rows of a CSV with a header line, numbered by their line in the file (the first
    data row is line 2). Empty cells are left out; a whole-number sample_index becomes
    an int."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not any(name.strip() for name in reader.fieldnames):
        raise InputError.single(0, "the input is empty")
    rows: list[Row] = []
    for record in reader:
        if None in record:
            raise InputError.single(reader.line_num, "more cells than the header has names")
        row = {k.strip(): v for k, v in record.items() if k and v not in (None, "")}
        if not row:
            continue
        if isinstance(row.get("sample_index"), str) and row["sample_index"].isdigit():
            row["sample_index"] = int(row["sample_index"])
        rows.append((reader.line_num, row))
    if not rows:
        raise InputError.single(0, "the input is empty")
    return rows


def parse_file(text: str, filename: str = "") -> tuple[str, list[Row]]:
    """(syntax, rows) of an uploaded file: "csv" by its .csv name, else "json" for a JSON
    array and "jsonl" for JSON Lines."""
    if filename.lower().endswith(".csv"):
        return "csv", parse_csv(text)
    rows = parse_rows(text)
    return ("json" if text.lstrip().startswith("[") else "jsonl"), rows


def read_rows(path: str | Path) -> list[Row]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(0, f"cannot read file ({exc})", source=str(path)) from None
    try:
        return parse_rows(text)
    except InputError as exc:
        exc.source = str(path)
        raise


def iter_text_field(row: int, data: dict[str, Any], name: str) -> Iterator[RowProblem]:
    """Yields a problem unless data[name] is a non-empty string."""
    value = data.get(name)
    if value is None:
        yield RowProblem(row, "is missing", name)
    elif not isinstance(value, str) or not value.strip():
        yield RowProblem(row, "must be a non-empty string", name)


def read_file_rows(path: str | Path, filename: str = "") -> tuple[str, list[Row]]:
    """parse_file on a file on disk; `filename` (default: the path's) decides CSV."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(0, f"cannot read file ({exc})", source=path.name) from None
    return parse_file(text, filename or path.name)
