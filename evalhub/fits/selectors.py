"""Reads of shared fits for pages and tests (no writes: requesting a fit is a service)."""

from __future__ import annotations

from django.db.models import QuerySet

from evalhub.fits.models import SharedFit


def shared_fits_of(*, kind: str, scope: str | None = None) -> QuerySet[SharedFit]:
    """A kind's fits (of one scope), newest first."""
    found = SharedFit.objects.filter(kind=kind)
    if scope is not None:
        found = found.filter(scope=scope)
    return found.order_by("-created_at")
