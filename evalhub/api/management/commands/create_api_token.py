from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from evalhub.accounts.roles import is_researcher


class Command(BaseCommand):
    help = (
        "Print the API token of a researcher (made on first use). Send it as "
        "`Authorization: Token <key>`. --rotate replaces an existing token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="revoke the old token first")

    def handle(self, *args, username: str, rotate: bool, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}; create one with `manage.py create_user`")
        if not is_researcher(user):
            raise CommandError(f"{username!r} is not a researcher; the API is for researchers")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
