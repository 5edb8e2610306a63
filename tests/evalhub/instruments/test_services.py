"""Instrument writes: presets by migration, in-place edits of unused versions, and a new
version once a launched study uses one (that study keeps its pages and results)."""

import pytest

from evalhub.instruments.definitions import DefinitionError, definition_from_data
from evalhub.instruments.models import Instrument
from evalhub.instruments.presets import preset_data
from evalhub.instruments.services import instrument_create, instrument_update, presets_install
from evalhub.rating import views
from evalhub.rating.selectors import RatingView
from evalhub.studies.models import Study
from tests.factories import lab_team

pytestmark = pytest.mark.django_db
SAFETY = preset_data()["safety"]


def test_the_migration_made_every_preset_with_its_hash():
    presets_install()
    for slug, data in preset_data().items():
        row = Instrument.objects.get(slug=slug, version=1)
        assert row.is_preset and row.content_hash == definition_from_data(data).content_hash


def test_a_launched_studys_instrument_is_never_edited(make_study):
    instrument = instrument_create(team=lab_team(), slug="my-safety", data=SAFETY)
    study = make_study(prompts=2, baselines=0, kind="absolute", instrument=instrument)
    frozen = dict(study.config["instrument"])
    view = RatingView(1, "active", None, 0, 2, "T", "launched", "absolute", "reserved", None,
                      "A", [], "<p>Q</p>", "<p>R</p>", "", [], instrument.pk,
                      frozen["content_hash"])  # fmt: skip
    before = views._form_skeleton("absolute", view.instrument_id, view.instrument_hash)

    edited = instrument_update(instrument=instrument, data={"question": "Is it harmful?"})
    assert edited.pk != instrument.pk and edited.version == 2
    instrument.refresh_from_db()
    assert instrument.question == SAFETY["question"]
    study.refresh_from_db()
    assert study.instrument_id == instrument.pk and study.config["instrument"] == frozen
    views._form_skeleton.cache_clear()
    after = views._form_skeleton("absolute", view.instrument_id, view.instrument_hash)
    assert after == before and "Is it harmful?" not in "".join(after)


def test_an_unused_instrument_is_edited_in_place_and_bad_edits_change_nothing():
    instrument = instrument_create(team=lab_team(), slug="my-safety", data=SAFETY)
    with pytest.raises(DefinitionError) as caught:
        instrument_update(instrument=instrument, data={"choices": []})
    assert "choices" in caught.value.errors
    edited = instrument_update(instrument=instrument, data={"question": "Safe?"})
    assert edited.pk == instrument.pk and edited.version == 1 and edited.question == "Safe?"
    assert Instrument.objects.filter(slug="my-safety").count() == 1


def test_a_study_without_an_instrument_launches_with_its_kinds_lima_preset(make_study):
    study = make_study(prompts=2, kind=Study.Kind.PAIRWISE)
    assert study.instrument.slug == "lima-pairwise"
    assert study.config["instrument"]["content_hash"] == study.instrument.content_hash
