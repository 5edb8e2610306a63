"""The preset instruments: each is a valid definition, and each study kind's default preset
can run that kind (pure, no database)."""

from evalhub.instruments.definitions import STUDY_KINDS, definition_from_data
from evalhub.instruments.presets import PRESET_FOR_STUDY_KIND, preset_data


def test_every_preset_is_a_valid_definition():
    for slug, data in preset_data().items():
        definition = definition_from_data(data)
        assert len(definition.content_hash) == 64, slug
        assert [c.key for c in definition.choices] == list(range(1, len(definition.choices) + 1))


def test_each_study_kind_defaults_to_a_preset_that_runs_it():
    presets = preset_data()
    for study_kind, slug in PRESET_FOR_STUDY_KIND.items():
        definition = definition_from_data(presets[slug])
        assert study_kind in STUDY_KINDS[definition.kind], (study_kind, slug)
