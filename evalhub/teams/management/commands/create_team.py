from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from evalhub.teams.services import team_create


class Command(BaseCommand):
    help = "Create a team with its first owner (who then invites the others from /teams/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="", help="shown in the shell (default: the slug)")
        parser.add_argument("--owner", required=True, help="username of its first owner")

    def handle(self, *args, slug: str, name: str, owner: str, **o) -> None:
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"--owner: no user {owner!r}; create one with `create_user`")
        try:
            team_create(name=name or slug, slug=slug, owner=user)
        except IntegrityError:
            raise CommandError(f"a team {slug!r} exists already") from None
        self.stdout.write(self.style.SUCCESS(f"Created team {slug}, owned by {owner}."))
