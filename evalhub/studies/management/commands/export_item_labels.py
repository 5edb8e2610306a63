"""Export a study's aggregated verdicts per item (majority vote and the reliability-weighted
default) as CSV or JSON Lines."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evalhub.studies.exports import FORMATS, export_lines
from evalhub.studies.models import Study


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--study", required=True)
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        from evalhub.dashboards.selectors.crowd_quality import ITEM_LABEL_FIELDS, item_labels

        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"--study: no study {options['study']!r}")
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
