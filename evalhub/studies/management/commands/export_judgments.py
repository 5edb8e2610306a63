import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evalhub.studies.exports import FORMATS, export_lines
from evalhub.studies.models import Judgment, Study
from evalhub.studies.selectors import judgments_export_rows, team_studies
from evalhub.teams.commands import add_team_argument, team_named


class Command(BaseCommand):
    help = "Export judgments, one row per judgment with shown order and timing, as CSV or JSONL."

    def add_arguments(self, parser: CommandParser) -> None:
        add_team_argument(parser)
        parser.add_argument(
            "--study", default="", help="study slug in the team (default: all its studies)"
        )
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", "-o", default="-", help="file path, or - for stdout")

    def handle(self, *args, study: str, format: str, output: str, **options) -> None:
        team = team_named(options["team"])
        selected = None
        if study:
            try:
                selected = team_studies(team=team).get(slug=study)
            except Study.DoesNotExist:
                raise CommandError(f"no study {study!r} in team {team.slug}") from None
        scope = {"item__study": selected} if selected else {"item__study__team": team}
        total = Judgment.objects.filter(**scope).count()
        rows = tqdm(
            judgments_export_rows(study=selected, team=team),
            total=total,
            unit="judgment",
            file=sys.stderr,
            disable=None,
        )
        stream = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")
        try:
            for line in export_lines(rows, format):
                stream.write(line)
        finally:
            if stream is not sys.stdout:
                stream.close()
        if output != "-":
            self.stderr.write(f"Wrote {total} judgments to {output}.")
