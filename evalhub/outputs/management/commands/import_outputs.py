from django.core.management.base import BaseCommand, CommandError, CommandParser

from evalhub.cli import input_error_to_command_error, rows_with_progress
from evalhub.importing import InputError
from evalhub.outputs.services import model_register, outputs_import
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets
from evalhub.teams.commands import add_team_argument, team_named


class Command(BaseCommand):
    help = (
        "Import model outputs for a prompt set: AlpacaEval JSON "
        "([{instruction, output, generator}], matched by exact instruction text) or our JSONL "
        "({external_id | prompt_id | instruction, output, model, sample_index, provenance}). "
        "All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--set", dest="slug", required=True, help="prompt set slug")
        parser.add_argument("--model", default="", help="model slug for rows that name none")
        add_team_argument(parser)

    def handle(self, *args, path: str, slug: str, model: str, **options) -> None:
        team = team_named(options["team"])
        try:
            prompt_set = team_prompt_sets(team=team).get(slug=slug)
        except PromptSet.DoesNotExist:
            raise CommandError(f"no prompt set {slug!r} in team {team.slug}") from None
        entry = None
        if model:
            entry = model_register(team=team, slug=model)
        rows = rows_with_progress(path, "checking outputs")
        try:
            result = outputs_import(prompt_set=prompt_set, rows=rows, model=entry)
        except InputError as exc:
            raise input_error_to_command_error(exc, path) from None
        new_models = ", ".join(result.models_created) or "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created} outputs ({result.unchanged} unchanged; "
                f"new models: {new_models})."
            )
        )
