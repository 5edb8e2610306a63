from django.core.management.base import BaseCommand, CommandParser

from evalhub.cli import input_error_to_command_error, rows_with_progress
from evalhub.importing import InputError
from evalhub.prompts.services import prompts_import
from evalhub.teams.commands import add_team_argument, team_named


class Command(BaseCommand):
    help = (
        "Import prompts into a prompt set from LIMA's JSONL ({conversations, source}) or a "
        "plain JSONL ({id, text, category}). All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--set", dest="slug", required=True, help="prompt set slug")
        parser.add_argument("--name", default="", help="prompt set name, when it is new")
        add_team_argument(parser)

    def handle(self, *args, path: str, slug: str, name: str, **options) -> None:
        team = team_named(options["team"])
        rows = rows_with_progress(path, "checking prompts")
        try:
            result = prompts_import(team=team, slug=slug, rows=rows, name=name)
        except InputError as exc:
            raise input_error_to_command_error(exc, path) from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {result.created} prompts into {result.prompt_set.slug}.")
        )
