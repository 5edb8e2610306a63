from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evalhub.accounts.services import api_token_create, api_tokens_revoke_all
from evalhub.teams.selectors import memberships_of


class Command(BaseCommand):
    help = (
        "Make a new API token for a member of a team and print it (only its hash is kept, so this "
        "is the one time it is shown). Send it as `Authorization: Token <key>`. "
        "--rotate revokes the researcher's other tokens first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", required=True, help="the slug of the team it works in")
        parser.add_argument("--rotate", action="store_true", help="revoke the old tokens first")
        parser.add_argument(
            "--expires-days", type=int, default=None, metavar="N",
            help="the token stops working after N days (default: never)",
        )  # fmt: skip

    def handle(
        self, *args, username: str, team: str, rotate: bool, expires_days: int | None, **o
    ) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}; create one with `manage.py create_user`")
        member = memberships_of(user=user).filter(team__slug=team).first()
        if member is None:
            raise CommandError(f"{username!r} is not a member of a team {team!r}")
        if expires_days is not None and expires_days < 1:
            raise CommandError(f"--expires-days must be at least 1, not {expires_days}")
        if rotate:
            api_tokens_revoke_all(user=user)
        expires_in = timedelta(days=expires_days) if expires_days else None
        _, raw = api_token_create(user=user, team=member.team, expires_in=expires_in)
        self.stdout.write(raw)
