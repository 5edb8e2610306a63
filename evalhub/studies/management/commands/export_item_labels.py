"""Export a study's aggregated verdicts per item (majority vote and the reliability-weighted
default) as CSV or JSON Lines."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evalhub.studies.exports import FORMATS, export_lines
from evalhub.studies.selectors import team_studies
from evalhub.teams.commands import add_team_argument, team_named


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        add_team_argument(parser)
        parser.add_argument("--study", required=True, help="study slug in the team")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        from evalhub.dashboards.selectors.crowd_quality import ITEM_LABEL_FIELDS, item_labels

        team = team_named(options["team"])
        study = team_studies(team=team).filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"--study: no study {options['study']!r} in team {team.slug}")
        rows = item_labels(study)
        out = (
            open(options["output"], "w", encoding="utf-8", newline="")
            if options["output"]
            else sys.stdout
        )
        try:
            for line in export_lines(rows, options["format"], fields=ITEM_LABEL_FIELDS):
                out.write(line)
        finally:
            if out is not sys.stdout:
                out.close()
