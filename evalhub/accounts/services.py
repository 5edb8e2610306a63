from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from knox.models import AuthToken

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


@transaction.atomic
def api_token_create(
    *, user: AbstractBaseUser, expires_in: timedelta | None = None
) -> tuple[AuthToken, str]:
    """A new API token for `user`, valid for `expires_in` (None: until revoked). Returns the
    row and the raw token: show it once, it is not kept (the row holds its SHA-512 digest
    and its first 15 characters, for lookup)."""
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive (or None for no expiry)")
    return AuthToken.objects.create(user=user, expiry=expires_in)


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser, digest: str) -> bool:
    """Delete one of the user's tokens; it fails its next request. False if the user has
    no such token (another user's token is never touched)."""
    deleted, _ = AuthToken.objects.filter(user=user, digest=digest).delete()
    return deleted > 0


@transaction.atomic
def api_tokens_revoke_all(*, user: AbstractBaseUser) -> int:
    """Delete every token of the user; returns how many there were."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
