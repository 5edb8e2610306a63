"""What the management commands share: a team named by its slug."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from evalhub.teams.models import Team


def add_team_argument(parser: CommandParser) -> None:
    parser.add_argument("--team", required=True, help="slug of the team that owns what is made")


def team_named(slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise CommandError(f"--team: no team {slug!r}")
    return team
