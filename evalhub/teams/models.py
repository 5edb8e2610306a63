"""Teams own a lab's data; members hold one role per team; tokens belong to a member in one
team; every owner-level change is an audit event."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"  # members, roles, tokens, delete
    RESEARCHER = "researcher", "Researcher"  # creates, launches, closes, excludes, spends
    VIEWER = "viewer", "Viewer"  # reads results and data, changes nothing


# A role may do what every role after it in this tuple may do.
ROLE_ORDER = (Role.VIEWER, Role.RESEARCHER, Role.OWNER)


def role_allows(role: str, needed: str) -> bool:
    """Whether `role` is at least `needed` (viewer < researcher < owner)."""
    return ROLE_ORDER.index(Role(role)) >= ROLE_ORDER.index(Role(needed))


class Team(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_once_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.team_id}:{self.role}"


class Invitation(models.Model):
    """A one-time link: only the sha256 of its token is kept."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=20, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation to {self.team_id} as {self.role}"


class TeamToken(models.Model):
    """Binds a knox API token to the team it works in; the role is the member's role there,
    read on every request (so a role change or a removal counts at once)."""

    token = models.OneToOneField(
        "knox.AuthToken", primary_key=True, on_delete=models.CASCADE, related_name="team_binding"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tokens")

    def __str__(self) -> str:
        return f"token {self.token_id[:8]} in {self.team_id}"


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        TEAM_CREATE = "team.create", "Created the team"
        INVITE = "member.invite", "Invited a member"
        JOIN = "member.join", "Joined"
        ROLE_CHANGE = "member.role", "Changed a role"
        REMOVE = "member.remove", "Removed a member"
        TOKEN_CREATE = "token.create", "Created a token"
        TOKEN_REVOKE = "token.revoke", "Revoked a token"
        LAUNCH = "study.launch", "Launched a study"
        CLOSE = "study.close", "Closed a study"
        EXCLUDE = "judgment.exclude", "Excluded judgments"
        INCLUDE = "judgment.include", "Included judgments"
        DELETE = "object.delete", "Deleted"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["team", "-at"], name="audit_team_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
