"""Writes for teams: create, invite, join, change a role, remove a member, team tokens and
the audit log. A team always keeps at least one owner: every service that could take the
last one away locks the team's owner rows first and refuses."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from evalhub.teams.models import DEFAULT_TEAM, AuditEvent, Invitation, Membership, Role, Team
from evalhub.teams.selectors import invitation_digest, invitation_for_token, invitation_refusal

INVITATION_LIFETIME = timedelta(days=7)


class TeamError(ValueError):
    """A team change that the rules refuse; the message says why."""


class LastOwnerError(TeamError):
    pass


class InvitationInvalid(TeamError):
    pass


def audit_record(
    *,
    team: Team,
    actor: AbstractBaseUser | None,
    action: str,
    obj: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """One line of the team's audit log: who did `action` to `obj`, and what. Edits (with
    before and after) go through evalhub.audit.services.edit_record, into the same log."""
    return AuditEvent.objects.create(
        team=team,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=AuditEvent.Action(action),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(getattr(obj, "slug", "") or obj)[:200] if obj is not None else "",
        details=details or {},
    )


def team_default() -> Team:
    """The default team ("lab"), made when missing: the owner of work over no one team's
    object (a fit across studies), as the teams migration made it for today's data."""
    return Team.objects.get_or_create(slug=DEFAULT_TEAM, defaults={"name": "Lab"})[0]


@transaction.atomic
def team_create(*, name: str, slug: str, owner: AbstractBaseUser) -> Team:
    team = Team.objects.create(name=name, slug=slug)
    Membership.objects.create(user=owner, team=team, role=Role.OWNER)
    audit_record(team=team, actor=owner, action=AuditEvent.Action.TEAM_CREATE, obj=team)
    return team


@transaction.atomic
def invitation_create(
    *,
    team: Team,
    by: AbstractBaseUser,
    role: str,
    expires_in: timedelta = INVITATION_LIFETIME,
) -> tuple[Invitation, str]:
    """A one-time invitation to `team` in `role`. Returns the row and the raw token (shown
    once: only its sha256 is kept)."""
    if expires_in <= timedelta(0):
        raise TeamError("expires_in must be positive")
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        team=team,
        role=Role(role),
        token_digest=invitation_digest(raw),
        invited_by=by,
        expires_at=timezone.now() + expires_in,
    )
    audit_record(
        team=team, actor=by, action=AuditEvent.Action.INVITE, obj=invitation, details={"role": role}
    )
    return invitation, raw


@transaction.atomic
def invitation_accept(*, raw_token: str, user: AbstractBaseUser) -> Membership:
    """Use an invitation: `user` joins its team in its role. Refused when the token is
    unknown, used or expired, or the user is already a member."""
    invitation = invitation_for_token(raw_token=raw_token, for_update=True)
    refusal = invitation_refusal(invitation=invitation, user=user)
    if refusal:
        raise InvitationInvalid(refusal)
    invitation.used_at = timezone.now()
    invitation.used_by = user
    invitation.save(update_fields=["used_at", "used_by"])
    membership = Membership.objects.create(user=user, team=invitation.team, role=invitation.role)
    audit_record(
        team=invitation.team,
        actor=user,
        action=AuditEvent.Action.JOIN,
        obj=membership,
        details={"role": invitation.role, "user": user.get_username()},
    )
    return membership


def _keep_an_owner(*, team: Team, leaving: Membership) -> None:
    """Refuse if `leaving` is the team's last owner (the caller holds the team's lock)."""
    owners = list(
        Membership.objects.filter(team=team, role=Role.OWNER).values_list("pk", flat=True)
    )
    if leaving.role == Role.OWNER and owners == [leaving.pk]:
        raise LastOwnerError(f"{team.name} must keep at least one owner.")


def _member(*, team: Team, user: AbstractBaseUser) -> Membership:
    """The user's membership, with the team's row locked first: changes to one team's
    members run one at a time, so two owners demoting each other at once cannot both
    succeed (and cannot deadlock)."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise TeamError(f"{user.get_username()} is not a member of {team.name}.")
    return membership


@transaction.atomic
def membership_role_change(
    *, team: Team, by: AbstractBaseUser, user: AbstractBaseUser, role: str
) -> Membership:
    membership = _member(team=team, user=user)
    role = Role(role)
    if role != Role.OWNER:
        _keep_an_owner(team=team, leaving=membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        team=team,
        actor=by,
        action=AuditEvent.Action.ROLE_CHANGE,
        obj=membership,
        details={"user": user.get_username(), "from": before, "to": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, team: Team, by: AbstractBaseUser, user: AbstractBaseUser) -> None:
    """Remove `user` from `team`; their tokens for the team are deleted with it. Their
    sessions lose the team at once too: membership is read on every request."""
    membership = _member(team=team, user=user)
    _keep_an_owner(team=team, leaving=membership)
    AuthToken.objects.filter(user=user, team_binding__team=team).delete()
    membership.delete()
    audit_record(
        team=team,
        actor=by,
        action=AuditEvent.Action.REMOVE,
        details={"user": user.get_username(), "role": membership.role},
    )
