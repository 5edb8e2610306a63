"""Edits go into the team's one audit log: any object, its actor (or a program), before and
after as JSON, in the object's team; another team reads none of it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from evalhub.audit.selectors import edit_records, object_history
from evalhub.audit.services import changed_fields, edit_record
from evalhub.teams.models import AuditEvent
from tests.factories import ModelEntryFactory, PromptSetFactory, TeamFactory, lab_team

pytestmark = pytest.mark.django_db


def test_it_records_who_changed_what_on_any_object(alice):
    lab = lab_team()
    model = ModelEntryFactory(slug="m1", team=lab)
    prompt_set = PromptSetFactory(slug="p1", team=lab)
    first = edit_record(obj=model, actor=alice, action=AuditEvent.Action.RENAME,
                        before={"slug": "m0"}, after={"slug": "m1"})  # fmt: skip
    edit_record(obj=prompt_set, actor=AnonymousUser(), action=AuditEvent.Action.DELETE,
                before={"prompts": 3, "set": prompt_set})  # fmt: skip
    assert (first.team, first.object_type, first.object_id, first.object_repr) == (
        lab, "outputs.modelentry", str(model.pk), "m1")  # fmt: skip
    assert object_history(model, team=lab) == [first]
    (gone,) = object_history(prompt_set, team=lab)
    assert gone.actor is None and gone.before == {"prompts": 3, "set": "p1"}  # JSON, by slug
    assert [r.object_type for r in edit_records(team=lab)] == [
        "prompts.promptset", "outputs.modelentry"]  # fmt: skip
    assert list(edit_records(team=lab, object_type="outputs.modelentry")) == [first]
    assert first.changes() == [("slug", '"m0"', '"m1"')]


def test_another_team_reads_none_of_it(alice):
    lab, rival = lab_team(), TeamFactory(slug="rival")
    model = ModelEntryFactory(slug="m2", team=lab)
    edit_record(obj=model, actor=alice, action=AuditEvent.Action.RENAME, after={"name": "x"})
    assert object_history(model, team=rival) == []
    assert not edit_records(team=rival, object_type="outputs.modelentry").exists()


def test_only_the_fields_that_changed_are_kept():
    before, after = changed_fields({"a": 1, "b": [1, 2], "c": "x"}, {"a": 1, "b": [2], "c": "y"})
    assert (before, after) == ({"b": [1, 2], "c": "x"}, {"b": [2], "c": "y"})
