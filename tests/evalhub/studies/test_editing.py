"""Change and remove (evalhub.studies.editing): drafts change freely, a launched study's
config stays frozen, running settings are recorded, and deletions that would take results
away are refused with the reason."""

from __future__ import annotations

import pytest

from evalhub.audit.selectors import edit_records, object_history
from evalhub.importing import InputError
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.studies import editing
from evalhub.studies.models import Study
from evalhub.studies.services import StudyStateError, study_create, study_launch
from evalhub.teams.models import AuditEvent
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)

pytestmark = pytest.mark.django_db

# The edits in the team's one audit log (it holds launches and closes too).
EDITS = {"object.edit", "object.rename", "object.delete", "outputs.replace", "settings.change"}


def _history(obj):
    return [e for e in object_history(obj, team=lab_team()) if e.action in EDITS]


def _edits(**filters):
    return [e for e in edit_records(team=lab_team(), **filters) if e.action in EDITS]


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
    (edit,) = _history(study)
    assert (edit.actor, edit.action, edit.object_type) == (alice, "object.edit", "studies.study")
    assert edit.before == {"name": "S1", "raters_per_item": 3, "baselines": ["base"]}
    assert edit.after == {"name": "Renamed", "raters_per_item": 5, "baselines": ["other"]}


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
    (edit,) = _history(study)
    assert (edit.actor, edit.action) == (alice, AuditEvent.Action.SETTINGS_CHANGE)
    assert edit.before == {"completion_code": "", "quality_rules": {}}
    assert edit.after == {"completion_code": "C0DE", "quality_rules": {"min_agreement": 0.6}}


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
    assert study.completion_code == "" and not _edits()


def test_a_draft_is_deleted_and_recorded_but_a_launched_study_is_refused(setup, alice):
    study = draft(setup)
    editing.study_delete_draft(study=study, by=alice)
    assert not Study.objects.filter(slug="s1").exists()
    (gone,) = _edits(object_type="studies.study")
    assert (gone.object_repr, gone.action, gone.actor) == ("s1", "object.delete", alice)
    assert gone.before == {"name": "S1", "status": "draft"}
    launched = study_launch(study=draft(setup, "s2"))
    with pytest.raises(editing.DeletionRefused, match="s2 is launched: its items and 0 judgments"):
        editing.study_delete_draft(study=launched, by=alice)
    assert Study.objects.filter(slug="s2").exists()
    assert not _history(launched)


def test_a_model_a_launched_study_uses_cannot_be_deleted_or_renamed(setup, alice):
    prompt_set, target, baseline, other = setup
    study_launch(study=draft(setup))
    with pytest.raises(
        editing.DeletionRefused,
        match=r"model base cannot be deleted: launched studies use it \(s1\)",
    ):
        editing.model_delete(model=baseline, by=alice)
    with pytest.raises(editing.DeletionRefused, match="cannot be renamed"):
        editing.model_rename(model=target, by=alice, name="x", slug="x")
    with pytest.raises(editing.DeletionRefused, match="launched studies use it"):
        editing.prompt_set_delete(prompt_set=prompt_set, by=alice)
    with pytest.raises(editing.DeletionRefused, match="show them to raters"):
        editing.model_outputs_clear(model=baseline, prompt_set=prompt_set, by=alice)
    assert ModelEntry.objects.filter(slug="base").exists() and Output.objects.count() == 12
    assert not _edits()  # a refusal records nothing
    # A model no study uses goes, with its outputs; the rename and deletion are recorded.
    other_id, old_name = other.pk, other.name
    editing.model_rename(model=other, by=alice, name="Other model", slug="other-2")
    editing.model_delete(model=ModelEntry.objects.get(slug="other-2"), by=None)
    assert Output.objects.count() == 8
    deleted, renamed = _edits(object_type="outputs.modelentry", object_id=other_id)
    assert (renamed.action, renamed.actor, renamed.object_repr) == (
        "object.rename",
        alice,
        "other-2",
    )
    assert renamed.before == {"name": old_name, "slug": "other"}
    assert renamed.after == {"name": "Other model", "slug": "other-2"}
    assert (deleted.action, deleted.actor) == ("object.delete", None)  # a program
    assert deleted.before["outputs"] == 4 and deleted.before["name"] == "Other model"


def test_a_prompt_set_a_draft_uses_is_refused_deletion_but_renamed(setup, alice):
    prompt_set = setup[0]
    draft(setup)
    with pytest.raises(editing.DeletionRefused, match=r"draft studies use it \(s1\)"):
        editing.prompt_set_delete(prompt_set=prompt_set, by=alice)
    editing.prompt_set_rename(prompt_set=prompt_set, by=alice, name="Questions", slug="questions")
    assert PromptSet.objects.get(slug="questions").name == "Questions"
    (renamed,) = _history(prompt_set)
    assert renamed.after == {"name": "Questions", "slug": "questions"}
    assert renamed.before["slug"] == "qs" and renamed.actor == alice
    # The same name again is no edit.
    editing.prompt_set_rename(prompt_set=prompt_set, by=alice, name="Questions", slug="questions")
    assert len(_history(prompt_set)) == 1
    with pytest.raises(InputError):
        editing.prompt_set_rename(
            prompt_set=PromptSetFactory(slug="b"), by=alice, name="B", slug="questions"
        )
    assert len(_edits()) == 1


def test_outputs_no_launched_study_shows_can_be_cleared_for_a_new_upload(setup, alice):
    prompt_set, _, _, other = setup
    assert editing.model_outputs_clear(model=other, prompt_set=prompt_set, by=alice) == 4
    assert not Output.objects.filter(model=other).exists()
    (cleared,) = _history(other)
    assert (cleared.action, cleared.actor) == (AuditEvent.Action.OUTPUTS_REPLACE, alice)
    assert cleared.before == {"prompt_set": "qs", "outputs": 4}
