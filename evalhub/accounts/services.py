from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from knox.models import AuthToken

from evalhub.accounts.roles import ROLES
from evalhub.teams.models import AuditEvent, Membership, Team, TeamToken
from evalhub.teams.services import audit_record


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
    *, user: AbstractBaseUser, team: Team, expires_in: timedelta | None = None
) -> tuple[AuthToken, str]:
    """A new API token for `user`, working in `team` only with the user's role there (read on
    every request), valid for `expires_in` (None: until revoked). Returns the row and the
    raw token: show it once, it is not kept (the row holds its SHA-512 digest and its first
    15 characters, for lookup)."""
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive (or None for no expiry)")
    if not Membership.objects.filter(team=team, user=user).exists():
        raise ValueError(f"{user.get_username()} is not a member of {team.name}")
    token, raw = AuthToken.objects.create(user=user, expiry=expires_in)
    TeamToken.objects.create(token=token, team=team)
    audit_record(
        team=team,
        actor=user,
        action=AuditEvent.Action.TOKEN_CREATE,
        details={"token": token.token_key, "user": user.get_username()},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(
    *, team: Team, by: AbstractBaseUser, digest: str, as_owner: bool = False
) -> bool:
    """Delete one of the team's tokens: the caller's own, or any member's when `as_owner`;
    it fails its next request. False if there is no such token (another team's is never
    touched)."""
    tokens = AuthToken.objects.filter(team_binding__team=team, digest=digest)
    if not as_owner:
        tokens = tokens.filter(user=by)
    token = tokens.select_related("user").first()
    if token is None:
        return False
    details = {"token": token.token_key, "user": token.user.get_username()}
    token.delete()
    audit_record(team=team, actor=by, action=AuditEvent.Action.TOKEN_REVOKE, details=details)
    return True


@transaction.atomic
def api_tokens_revoke_all(*, user: AbstractBaseUser) -> int:
    """Delete every token of the user; returns how many there were."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
