"""manage.py import_release FOLDER --slug NEW: a release folder (or its zip archive)
as a new closed study with the release's results."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evalhub.releases.import_checks import ReleaseImportError
from evalhub.releases.importing import release_import
from evalhub.teams.commands import add_team_argument, team_named


class Command(BaseCommand):
    help = "Import a published release (its folder) as a new closed study."

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--slug", required=True, help="slug of the new study")
        add_team_argument(parser)

    def handle(self, *args, folder: Path, slug: str, team: str, **options) -> None:
        try:
            study = release_import(team=team_named(team), folder=folder, slug=slug)
        except ReleaseImportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"study {study.slug}: {study.items.count()} items imported")
