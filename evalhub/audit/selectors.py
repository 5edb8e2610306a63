"""Reading the edit record: one object's history, or every edit of a kind of object."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from evalhub.audit.models import OBJECT_TYPES, EditRecord

__all__ = ["OBJECT_TYPES", "edit_records", "object_history"]


def object_history(obj: models.Model, *, limit: int = 100) -> list[EditRecord]:
    """The newest `limit` edits of `obj`, newest first."""
    return list(
        EditRecord.objects.filter(
            object_type=obj._meta.label_lower, object_id=obj.pk
        ).select_related("actor")[:limit]
    )


def edit_records(*, object_type: str = "", object_id: int | None = None) -> QuerySet:
    """Every edit, newest first, optionally of one kind of object (a model label) or one
    object of it."""
    records = EditRecord.objects.select_related("actor")
    if object_type:
        records = records.filter(object_type=object_type)
        if object_id is not None:
            records = records.filter(object_id=object_id)
    return records
