"""Reads for teams. Membership is always read fresh (never cached), so a removal or a role
change counts on the very next request."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from evalhub.teams.models import AuditEvent, Invitation, Membership, Team


def memberships_of(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Membership]:
    """The user's teams with their role, by team name."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name")


def membership_in(
    *, user: AbstractBaseUser | AnonymousUser, team_id: int | None
) -> Membership | None:
    """The user's membership in the team, or None (also for anonymous users)."""
    if team_id is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("team").filter(user=user, team_id=team_id).first()


def membership_of_token(*, token: AuthToken) -> Membership | None:
    """The membership an API token acts as: its user in its team, or None when the token has
    no team or the user has left it."""
    return (
        Membership.objects.select_related("team")
        .filter(user_id=token.user_id, team__tokens__token=token)
        .first()
    )


def team_members(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def team_tokens(*, team: Team) -> QuerySet[AuthToken]:
    """The team's tokens that still work, newest first."""
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return (
        AuthToken.objects.filter(live, team_binding__team=team)
        .select_related("user")
        .order_by("-created")
    )


def audit_events(*, team: Team) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(team=team).select_related("actor")


def invitation_digest(raw_token: str) -> str:
    """What is kept of an invitation's token: its sha256."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def invitation_for_token(*, raw_token: str, for_update: bool = False) -> Invitation | None:
    invitations = Invitation.objects.select_related("team")
    if for_update:
        invitations = invitations.select_for_update(of=("self",))
    return invitations.filter(token_digest=invitation_digest(raw_token)).first()


def invitation_refusal(*, invitation: Invitation | None, user: AbstractBaseUser) -> str:
    """Why `user` cannot use `invitation` ("" when they can): the join page says it before
    the button, and the service refuses with the same words."""
    if invitation is None or invitation.used_at is not None:
        return "This invitation link is unknown or has been used."
    if invitation.expires_at <= timezone.now():
        return "This invitation link has expired; ask for a new one."
    if Membership.objects.filter(user=user, team=invitation.team).exists():
        return f"You are already a member of {invitation.team.name}."
    return ""
