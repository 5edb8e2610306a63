"""Shared pieces of the import/export management commands."""

from __future__ import annotations

from django.core.management.base import CommandError
from tqdm import tqdm

from evalhub.importing import InputError, Row, read_rows


def rows_with_progress(path: str, desc: str) -> list[Row]:
    """Read and number the rows of `path`, with a tqdm bar over them. Bad input becomes a
    CommandError naming the file and line."""
    try:
        rows = read_rows(path)
    except InputError as exc:
        raise CommandError(str(exc)) from None
    return list(tqdm(rows, desc=desc, unit="row", disable=None))


def input_error_to_command_error(exc: InputError, path: str) -> CommandError:
    exc.source = path
    return CommandError(f"{exc}\nNothing was written.")
