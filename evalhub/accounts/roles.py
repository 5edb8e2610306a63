"""Roles are Django groups. Staff use the admin."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

RESEARCHER = "researcher"
RATER = "rater"
ROLES = (RESEARCHER, RATER)


def is_researcher(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.groups.filter(name=RESEARCHER).exists())
    )
