from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from evalhub.accounts.roles import ROLES


@transaction.atomic
def user_create(*, username: str, password: str, role: str, is_staff: bool = False):
    """Create a user in one of the roles ("researcher" or "rater")."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {ROLES}")
    user = get_user_model().objects.create_user(
        username=username, password=password, is_staff=is_staff
    )
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user
