"""Reads for instruments."""

from __future__ import annotations

from functools import lru_cache

from django.db.models import Max, OuterRef, QuerySet, Subquery

from evalhub.instruments.definitions import Definition
from evalhub.instruments.models import Instrument


def instrument_list() -> QuerySet[Instrument]:
    """The newest version of every instrument, presets first, then by slug."""
    newest = (
        Instrument.objects.filter(slug=OuterRef("slug"))
        .values("slug")
        .annotate(v=Max("version"))
        .values("v")
    )
    return Instrument.objects.filter(version=Subquery(newest)).order_by("-is_preset", "slug")


def instrument_latest(*, slug: str) -> Instrument | None:
    """The newest version of the instrument with this slug."""
    return Instrument.objects.filter(slug=slug).order_by("-version").first()


def instrument_choices_for_form() -> list[tuple[str, str]]:
    """(slug, "name (kind)") of every instrument's newest version, for a study form."""
    return [(i.slug, f"{i.name} ({i.kind})") for i in instrument_list()]


@lru_cache(maxsize=256)
def definition_of(instrument_id: int, content_hash: str | None) -> Definition:
    """The definition of an instrument version, read once per process: a version a
    launched study uses never changes, and the hash in the key (from the study's frozen
    config) makes an edited draft's row a different entry."""
    return Instrument.objects.get(pk=instrument_id).definition
