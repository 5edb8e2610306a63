"""Reading a team's audit log: one object's history, or every event of a kind of object.
Every read takes the team: another team's events are never found."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from evalhub.teams.models import OBJECT_TYPES, AuditEvent, Team

__all__ = ["OBJECT_TYPES", "edit_records", "object_history"]


def object_history(obj: models.Model, *, team: Team, limit: int = 100) -> list[AuditEvent]:
    """The newest `limit` events of `obj` in `team`'s log (edits, launch, close, ...),
    newest first."""
    return list(
        AuditEvent.objects.filter(
            team=team, object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).select_related("actor")[:limit]
    )


def edit_records(
    *, team: Team, object_type: str = "", object_id: int | str | None = None
) -> QuerySet[AuditEvent]:
    """The team's log, newest first, optionally of one kind of object (a model label) or
    one object of it."""
    records = AuditEvent.objects.filter(team=team).select_related("actor")
    if object_type:
        records = records.filter(object_type=object_type)
        if object_id is not None:
            records = records.filter(object_id=str(object_id))
    return records
