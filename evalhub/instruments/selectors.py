"""Reads for instruments."""

from __future__ import annotations

from functools import lru_cache

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from evalhub.instruments.definitions import Definition
from evalhub.instruments.models import Instrument
from evalhub.teams.models import Team
from evalhub.teams.scope import TeamScope


def team_instruments(*, team: Team) -> QuerySet[Instrument]:
    """Every version of `team`'s instruments and of the shared presets (read-only to all):
    pages, lists, forms and API lookups start here, so another team's instrument is simply
    not found (a 404, never a 403)."""
    return Instrument.objects.filter(Q(team=team) | Q(is_preset=True, team__isnull=True))


# The API resolves an instrument's `slug` within the caller's team (and the presets) before
# the role check.
INSTRUMENT_SCOPE = TeamScope(team_instruments, "instrument")


def instrument_list(*, team: Team) -> QuerySet[Instrument]:
    """The newest version of each of `team`'s instruments and of the presets, presets first,
    then by slug."""
    newest = (
        team_instruments(team=team)
        .filter(slug=OuterRef("slug"))
        .values("slug")
        .annotate(v=Max("version"))
        .values("v")
    )
    return (
        team_instruments(team=team).filter(version=Subquery(newest)).order_by("-is_preset", "slug")
    )


def instrument_latest(*, team: Team, slug: str) -> Instrument | None:
    """The newest version of `team`'s (or the presets') instrument with this slug."""
    return team_instruments(team=team).filter(slug=slug).order_by("-version").first()


def instrument_choices_for_form(*, team: Team) -> list[tuple[str, str]]:
    """(slug, "name (kind)") of the newest version of `team`'s instruments and the presets,
    for a study form."""
    return [(i.slug, f"{i.name} ({i.kind})") for i in instrument_list(team=team)]


@lru_cache(maxsize=256)
def definition_of(instrument_id: int, content_hash: str | None) -> Definition:
    """The definition of an instrument version, read once per process: a version a
    launched study uses never changes, and the hash in the key (from the study's frozen
    config) makes an edited draft's row a different entry."""
    return Instrument.objects.get(pk=instrument_id).definition
