"""The one record of edits: who changed or removed what, when, and how (before / after).

Generic over what was edited (`object_type` is the model's label, "studies.study"), so a
deleted object keeps its history and a team's audit log can later be a filter over it."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models

# The kinds of object the workspace shows a history of, by model label, in words.
OBJECT_TYPES = {
    "studies.study": "Study",
    "prompts.promptset": "Prompt set",
    "outputs.modelentry": "Model",
}


class EditRecord(models.Model):
    class Action(models.TextChoices):
        EDITED = "edited", "Edited"
        RENAMED = "renamed", "Renamed"
        DELETED = "deleted", "Deleted"
        OUTPUTS_REPLACED = "outputs_replaced", "Outputs cleared for a replacement upload"
        SETTINGS_CHANGED = "settings_changed", "Running settings changed"

    object_type = models.CharField(max_length=100)  # the model's label_lower
    object_id = models.PositiveBigIntegerField()
    # The object's name when edited: a deleted (or renamed) object is still named.
    object_repr = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    action = models.CharField(max_length=30, choices=Action.choices)
    # {field: value} of the fields that changed, before and after (JSON-able values).
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="edit_record_object_idx"),
            models.Index(fields=["-at"], name="edit_record_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_repr} at {self.at:%Y-%m-%d %H:%M}"

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
