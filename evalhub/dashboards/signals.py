"""Judgment writes invalidate the dashboards' cached stats of their study."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.studies import signals as studies_signals
from evalhub.studies.models import Item, Judgment, Study


@lru_cache(maxsize=65536)
def _study_of_item(item_id: int) -> int | None:
    # Items never move between studies, so the answer can be kept for the process lifetime.
    return Item.objects.filter(pk=item_id).values_list("study_id", flat=True).first()


def judgment_written(sender: type[Judgment], instance: Judgment, **kwargs: Any) -> None:
    """Bump the study's stats version now (readers inside this transaction see the write)
    and again on commit (so a reader that cached pre-commit data is superseded)."""
    item = instance._state.fields_cache.get("item")
    study_id = item.study_id if item is not None else _study_of_item(instance.item_id)
    if study_id is None:
        return
    study_stats_invalidate(study_id)
    transaction.on_commit(lambda: study_stats_invalidate(study_id))


def judgments_bulk_written(sender: type[Judgment], study_id: int, **kwargs: Any) -> None:
    study_stats_invalidate(study_id)


def study_created(sender: type[Study], instance: Study, created: bool, **kwargs: Any) -> None:
    """A new study bumps its stats version: after a database is recreated, study ids repeat,
    and stats cached in Redis under the old study with that id must never be served."""
    if created:
        study_stats_invalidate(instance.pk)


def connect() -> None:
    post_save.connect(study_created, sender=Study, dispatch_uid="dashboards-study-created")
    studies_signals.judgments_bulk_written.connect(
        judgments_bulk_written, dispatch_uid="dashboards-judgments-bulk"
    )
    post_save.connect(judgment_written, sender=Judgment, dispatch_uid="dashboards-judgment-save")
    post_delete.connect(
        judgment_written, sender=Judgment, dispatch_uid="dashboards-judgment-delete"
    )
