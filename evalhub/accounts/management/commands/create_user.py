from django.core.management.base import BaseCommand, CommandParser

from evalhub.accounts.roles import ROLES
from evalhub.accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role (researcher or rater)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=ROLES, default="researcher")
        parser.add_argument("--staff", action="store_true")

    def handle(self, *args, username: str, password: str, role: str, staff: bool, **o) -> None:
        user_create(username=username, password=password, role=role, is_staff=staff)
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username}."))
