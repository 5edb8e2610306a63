"""Teams own a lab's data; members hold one role per team; tokens belong to a member in one
team; every owner-level change and every edit is an event of the team's one audit log."""

from __future__ import annotations

import json
from typing import Any

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


# The team that today's data went into when teams came (teams 0002), and that owns work
# over no one team's object (a shared fit across studies).
DEFAULT_TEAM = "lab"


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
        return f"{self.user.get_username()} ({self.get_role_display().lower()})"


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
        return f"an invitation as {self.get_role_display().lower()}"


class TeamToken(models.Model):
    """Binds a knox API token to the team it works in; the role is the member's role there,
    read on every request (so a role change or a removal counts at once)."""

    token = models.OneToOneField(
        "knox.AuthToken", primary_key=True, on_delete=models.CASCADE, related_name="team_binding"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tokens")

    def __str__(self) -> str:
        return f"token {self.token_id[:8]} in {self.team_id}"


# The kinds of object the workspace shows a history of, by model label, in words.
OBJECT_TYPES = {
    "studies.study": "Study",
    "prompts.promptset": "Prompt set",
    "outputs.modelentry": "Model",
}


class AuditEvent(models.Model):
    """One line of a team's one audit log: who did what to which object, when, with the
    details, and for an edit the fields' values before and after. Generic over the object
    (`object_type` is its model label, `object_id` its pk), so a deleted object keeps its
    history; `object_repr` names it as it was then."""

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
        EDIT = "object.edit", "Edited"
        RENAME = "object.rename", "Renamed"
        OUTPUTS_REPLACE = "outputs.replace", "Outputs cleared for a replacement upload"
        SETTINGS_CHANGE = "settings.change", "Running settings changed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=100, blank=True)  # the model's label_lower
    object_id = models.CharField(max_length=100, blank=True)  # its pk
    # The object's name then: a deleted (or renamed) object is still named.
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # For an edit: {field: value} of the fields that changed, before and after (JSON-able).
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["team", "-at"], name="audit_team_at"),
            models.Index(fields=["team", "object_type", "object_id", "-at"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"

    @property
    def object_kind(self) -> str:
        """The kind of object in words ("Model"), else its model label."""
        return OBJECT_TYPES.get(self.object_type, self.object_type)

    def changes(self) -> list[tuple[str, str, str]]:
        """(field, before, after) for each field either side names, in order, the values as
        JSON text ("" where a side has none)."""
        fields = list(self.before) + [f for f in self.after if f not in self.before]
        shown = lambda side, f: json.dumps(side[f], sort_keys=True) if f in side else ""  # noqa: E731
        return [(f, shown(self.before, f), shown(self.after, f)) for f in fields]

    def detail_pairs(self) -> list[tuple[str, Any]]:
        """(key, value) of the details, for templates: `details.items` there would read a
        detail named "items"."""
        return list(self.details.items()) if isinstance(self.details, dict) else []
