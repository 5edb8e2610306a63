"""What a live battle asks: the study's pairwise instrument (Arena's 4-way with "both are
bad", Arena-Hard's 5-point, a custom one), else LIMA's 3-way question. Votes are stored as
the choice's value; its side (A, B or tie, as shown) makes the verdict."""

from __future__ import annotations

from functools import lru_cache

from evalhub.instruments.definitions import PAIRWISE, Definition, definition_from_data
from evalhub.instruments.presets import preset_data
from evalhub.instruments.selectors import definition_of
from evalhub.live.errors import LiveInputError
from evalhub.studies.models import Study

# Conversation.vote holds the choice's value.
MAX_VALUE_CHARS = 10


@lru_cache(maxsize=1)
def _lima_pairwise() -> Definition:
    return definition_from_data(preset_data()["lima-pairwise"])


def battle_definition(study: Study) -> Definition:
    """The definition a battle of `study` asks (read once per process per version)."""
    if study.instrument_id is None:
        return _lima_pairwise()
    frozen = study.config.get("instrument") or {}
    return definition_of(study.instrument_id, frozen.get("content_hash"))


def battle_choice_side(study: Study, choice: str) -> str:
    """The side ("A", "B" or "tie", as shown) of a vote; LiveInputError for an unknown one."""
    definition = battle_definition(study)
    picked = definition.by_value.get(choice)
    if picked is None:
        values = ", ".join(c.value for c in definition.choices)
        raise LiveInputError(f"choice: pick one of {values}")
    return picked.side


def check_battle_instrument(instrument) -> None:
    """A live battle's instrument: pairwise, with choice values that fit a vote."""
    if instrument is None:
        return
    if instrument.kind != PAIRWISE:
        raise LiveInputError(f"instrument: a live battle asks a pairwise instrument, "
                             f"not {instrument.slug} ({instrument.kind})")  # fmt: skip
    long = [c.value for c in instrument.definition.choices if len(c.value) > MAX_VALUE_CHARS]
    if long:
        raise LiveInputError(f"instrument: choice values longer than {MAX_VALUE_CHARS} "
                             f"characters: {', '.join(long)}")  # fmt: skip
