"""Writes for instruments: create, edit (a new version once a launched study uses it) and
install the presets."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max

from evalhub.instruments.definitions import DefinitionError, definition_from_data
from evalhub.instruments.models import Instrument
from evalhub.instruments.presets import PRESET_FOR_STUDY_KIND, preset_data
from evalhub.instruments.selectors import team_instruments
from evalhub.teams.models import Team

FIELDS = ("kind", "name", "intro", "question", "choices", "levels", "comment", "gold_choice",
          "judge_template", "credit")  # fmt: skip


def _row_fields(data: dict[str, Any]) -> dict[str, Any]:
    definition = definition_from_data(data)
    content = definition.content()
    return {**{name: content[name] for name in FIELDS}, "content_hash": definition.content_hash}


@transaction.atomic
def instrument_create(
    *, team: Team, slug: str, data: dict[str, Any], by: AbstractBaseUser | None = None
) -> Instrument:
    """A new instrument of `team` (version 1). Raises DefinitionError with every bad field,
    including a slug already taken."""
    errors: dict[str, str] = {}
    try:
        fields = _row_fields(data)
    except DefinitionError as exc:
        errors.update(exc.errors)
        fields = {}
    # Within the team, and the presets' slugs too (a team's own would shadow the preset).
    if team_instruments(team=team).filter(slug=slug).exists():
        errors["slug"] = f"instrument {slug!r} exists; edit it to make a new version"
    if errors:
        raise DefinitionError(errors)
    try:
        with transaction.atomic():
            return Instrument.objects.create(
                team=team, slug=slug, version=1, created_by=by, **fields
            )
    except IntegrityError as exc:
        raise DefinitionError({"slug": f"instrument {slug!r} exists"}) from exc


def instrument_in_use(instrument: Instrument) -> bool:
    """Whether a launched (or closed) study asks this version."""
    return instrument.studies.exclude(status="draft").exists()


@transaction.atomic
def instrument_update(
    *, instrument: Instrument, data: dict[str, Any], by: AbstractBaseUser | None = None
) -> Instrument:
    """Edit an instrument with `data` (its content fields; missing ones keep their value).
    A version a launched study uses never changes: the edit becomes a new version, which
    is returned. Raises DefinitionError naming the bad fields; presets are shared by every
    team and read-only (DefinitionError on the slug)."""
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    if instrument.is_preset:
        raise DefinitionError({"slug": f"{instrument.slug!r} is a shared preset: read-only"})
    fields = _row_fields({**instrument.content(), **data})
    if fields["content_hash"] == instrument.content_hash:
        return instrument
    if instrument_in_use(instrument):
        versions = Instrument.objects.filter(team_id=instrument.team_id, slug=instrument.slug)
        latest = versions.aggregate(v=Max("version"))["v"]
        return Instrument.objects.create(
            team_id=instrument.team_id, slug=instrument.slug, version=latest + 1,
            is_preset=instrument.is_preset, created_by=by, **fields,
        )  # fmt: skip
    for name, value in fields.items():
        setattr(instrument, name, value)
    instrument.save(update_fields=[*fields])
    instrument.__dict__.pop("definition", None)
    return instrument


def presets_install(model: type[Instrument] = Instrument) -> int:
    """Make every preset that is missing (version 1 of its slug); returns how many were
    made. `model`: the Instrument model (a migration passes its historical one)."""
    # Presets only (a team's own instrument may share a slug); the historical model of the
    # presets migration has no team yet.
    presets = model.objects.filter(is_preset=True)
    missing = [
        model(slug=slug, version=1, is_preset=True, **_row_fields(data))
        for slug, data in preset_data().items()
        if not presets.filter(slug=slug).exists()
    ]
    if not missing:
        return 0
    before = presets.count()
    # Two callers may find a preset missing at once (a release job and a page after a
    # flush): the later insert does nothing instead of raising IntegrityError.
    model.objects.bulk_create(missing, ignore_conflicts=True)
    return presets.count() - before


@transaction.atomic
def instrument_for_study_kind(kind: str) -> Instrument:
    """The newest version of the LIMA preset a study of `kind` asks when it names none
    (installing the presets if they are missing, e.g. after a test database flush)."""
    slug = PRESET_FOR_STUDY_KIND[kind]
    presets = Instrument.objects.filter(team__isnull=True, slug=slug).order_by("-version")
    found = presets.first()
    if found is None:
        presets_install()
        found = presets.first()
    return found
