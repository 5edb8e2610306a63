"""Change and remove (evalhub.studies.editing): drafts change freely, a launched study's
config stays frozen, running settings are recorded, and deletions that would take results
away are refused with the reason."""

from __future__ import annotations

import pytest

from evalhub.importing import InputError
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.studies import editing
from evalhub.studies.models import Study, StudyEdit
from evalhub.studies.services import StudyStateError, study_create, study_launch
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    prompt_set = PromptSetFactory(slug="qs")
    target, baseline, other = (ModelEntryFactory(slug=s) for s in ("tgt", "base", "other"))
    for i in range(4):
        prompt = PromptFactory(prompt_set=prompt_set, external_id=f"q{i}")
        for model in (target, baseline, other):
            OutputFactory(prompt=prompt, model=model, text=f"{model.slug} {i}")
    return prompt_set, target, baseline, other


def draft(setup, slug="s1") -> Study:
    prompt_set, target, baseline, _ = setup
    return study_create(team=lab_team(), slug=slug, name="S1", prompt_set=prompt_set, target_model=target,
                        baselines=[baseline])  # fmt: skip


def test_a_draft_can_be_edited_and_the_edit_is_recorded(setup, alice):
    study = draft(setup)
    other = setup[3]
    editing.study_edit_draft(study=study, by=alice, baselines=[other], name="Renamed",
                             raters_per_item=5)  # fmt: skip
    study.refresh_from_db()
    assert study.name == "Renamed" and study.raters_per_item == 5
    assert list(study.baselines.values_list("slug", flat=True)) == ["other"]
    edit = StudyEdit.objects.get(study=study)
    assert edit.by == alice
    assert edit.changes == {"name": ["S1", "Renamed"], "raters_per_item": [3, 5],
                            "baselines": [["base"], ["other"]]}  # fmt: skip


def test_a_launched_studys_config_stays_frozen(setup, alice):
    study = study_launch(study=draft(setup))
    frozen = (study.config, study.config_hash)
    with pytest.raises(StudyStateError, match="frozen"):
        editing.study_edit_draft(study=study, by=alice, baselines=[], raters_per_item=9)
    with pytest.raises(InputError) as refused:
        editing.study_running_settings_update(study=study, by=alice, raters_per_item=9)
    assert refused.value.problems[0].field == "raters_per_item"
    editing.study_running_settings_update(
        study=study, by=alice, completion_code="C0DE", quality_rules={"min_agreement": 0.6}
    )
    study.refresh_from_db()
    assert study.completion_code == "C0DE" and study.quality_rules == {"min_agreement": 0.6}
    assert (study.config, study.config_hash) == frozen and study.raters_per_item == 3
    edit = study.edits.get()
    assert edit.by == alice and edit.changes == {
        "completion_code": ["", "C0DE"], "quality_rules": [{}, {"min_agreement": 0.6}]}  # fmt: skip


def test_bad_quality_rules_name_the_rule_and_change_nothing(setup, alice):
    study = draft(setup)
    with pytest.raises(InputError) as bad:
        editing.study_running_settings_update(
            study=study,
            by=alice,
            completion_code="X",
            quality_rules={"min_agreemnt": 1, "max_run": -1},
        )
    assert {p.field for p in bad.value.problems} == {"min_agreemnt", "max_run"}
    study.refresh_from_db()
    assert study.completion_code == "" and not StudyEdit.objects.exists()


def test_a_draft_is_deleted_but_a_launched_study_is_refused(setup):
    editing.study_delete_draft(study=draft(setup))
    assert not Study.objects.filter(slug="s1").exists()
    launched = study_launch(study=draft(setup, "s2"))
    with pytest.raises(editing.DeletionRefused, match="s2 is launched: its items and 0 judgments"):
        editing.study_delete_draft(study=launched)
    assert Study.objects.filter(slug="s2").exists()


def test_a_model_a_launched_study_uses_cannot_be_deleted_or_renamed(setup):
    prompt_set, target, baseline, other = setup
    study_launch(study=draft(setup))
    with pytest.raises(
        editing.DeletionRefused,
        match=r"model base cannot be deleted: launched studies use it \(s1\)",
    ):
        editing.model_delete(model=baseline)
    with pytest.raises(editing.DeletionRefused, match="cannot be renamed"):
        editing.model_rename(model=target, name="x", slug="x")
    with pytest.raises(editing.DeletionRefused, match="launched studies use it"):
        editing.prompt_set_delete(prompt_set=prompt_set)
    with pytest.raises(editing.DeletionRefused, match="show them to raters"):
        editing.model_outputs_clear(model=baseline, prompt_set=prompt_set)
    assert ModelEntry.objects.filter(slug="base").exists() and Output.objects.count() == 12
    # A model no study uses goes, with its outputs.
    editing.model_rename(model=other, name="Other model", slug="other-2")
    editing.model_delete(model=ModelEntry.objects.get(slug="other-2"))
    assert Output.objects.count() == 8


def test_a_prompt_set_a_draft_uses_is_refused_deletion_but_renamed(setup):
    prompt_set = setup[0]
    draft(setup)
    with pytest.raises(editing.DeletionRefused, match=r"draft studies use it \(s1\)"):
        editing.prompt_set_delete(prompt_set=prompt_set)
    editing.prompt_set_rename(prompt_set=prompt_set, name="Questions", slug="questions")
    assert PromptSet.objects.get(slug="questions").name == "Questions"
    with pytest.raises(InputError):
        editing.prompt_set_rename(prompt_set=PromptSetFactory(slug="b"), name="B", slug="questions")


def test_outputs_no_launched_study_shows_can_be_cleared_for_a_new_upload(setup):
    prompt_set, _, _, other = setup
    assert editing.model_outputs_clear(model=other, prompt_set=prompt_set) == 4
    assert not Output.objects.filter(model=other).exists()
