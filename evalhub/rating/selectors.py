"""Reads for rating pages: a session with everything its page shows, in one query."""

from __future__ import annotations

from typing import Any

from evalhub.rating.models import RaterSession


def session_page(*, where: dict[str, Any]) -> RaterSession | None:
    """The session matching `where` with its study, live assignment, item and page."""
    return (
        RaterSession.objects.select_related("study", "assignment__item__page")
        .filter(**where)
        .first()
    )


def session_for_entry(*, where: dict[str, Any]) -> RaterSession | None:
    """The session matching `where` with its study (no item content)."""
    return RaterSession.objects.select_related("study").filter(**where).first()
