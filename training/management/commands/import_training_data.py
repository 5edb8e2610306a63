"""Import LIMA-format JSONL as a training dataset (one transaction; errors name the line)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evalhub.importing import InputError, read_rows
from evalhub.teams.commands import team_named
from training.services import dataset_import


class Command(BaseCommand):
    help = 'Import {"conversations": [user, assistant, ...], "source": ...} rows (JSONL).'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--tokenizer", default="", help="measure token lengths with this")
        parser.add_argument("--max-length", type=int, default=2048)
        parser.add_argument("--team", default="", help="slug of the team that owns it "
                            "(default: the default team, lab)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            dataset = dataset_import(
                team=team_named(options["team"]) if options["team"] else None,
                slug=options["slug"],
                name=options["name"],
                rows=read_rows(options["path"]),
                source_file=options["path"],
                tokenizer_path=options["tokenizer"],
                max_length=options["max_length"],
            )
        except InputError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"dataset {dataset.slug}: {dataset.examples.count()} examples")
        for s in dataset.token_stats:
            self.stdout.write(
                f"  {s['source']}: {s['count']} rows, mean {s['mean_tokens']} tokens, "
                f"max {s['max_tokens']}, {s['trimmed']} trimmed at {options['max_length']}"
            )
