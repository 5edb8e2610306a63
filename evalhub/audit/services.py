"""Writing edits into the team's audit log. Each service that changes or removes what
researchers made calls `edit_record` inside its own transaction, so the event and the change
commit together."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from evalhub.teams.models import AuditEvent, Team
from evalhub.teams.services import team_default


def recorded_value(value: Any) -> Any:
    """A JSON-able form of a field's value: a related object by its slug (or id)."""
    if isinstance(value, models.Model):
        return getattr(value, "slug", None) or value.pk
    if isinstance(value, list | tuple):
        return [recorded_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): recorded_value(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def edit_record(
    *,
    obj: models.Model,
    actor: AbstractBaseUser | None,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    team: Team | None = None,
) -> AuditEvent:
    """Record one edit of `obj` by `actor` (None, or an anonymous user: a program) in the
    audit log of `team`, by default the object's own team (the default team for an object
    that has none). Call it before deleting `obj` (it reads obj.pk)."""
    team = team or getattr(obj, "team", None) or team_default()
    return AuditEvent.objects.create(
        team=team,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(getattr(obj, "slug", "") or obj)[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=AuditEvent.Action(action),
        before=recorded_value(before or {}),
        after=recorded_value(after or {}),
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """The before and after of only the fields whose value differs."""
    keys = [k for k in after if recorded_value(before.get(k)) != recorded_value(after[k])]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
