"""Export rows (judgments, or any rows with named `fields`) as CSV or JSON Lines text, one
line at a time (for files and streaming)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from evalhub.studies.selectors import EXPORT_FIELDS

FORMATS = ("csv", "jsonl")


def _csv_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def export_lines(
    rows: Iterable[dict[str, Any]], fmt: str, *, fields: tuple[str, ...] = EXPORT_FIELDS
) -> Iterator[str]:
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}; use one of {FORMATS}")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
