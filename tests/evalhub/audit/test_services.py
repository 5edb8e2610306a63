"""The one edit record: any object, its actor (or a program), before and after as JSON."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from evalhub.audit.models import EditRecord
from evalhub.audit.selectors import edit_records, object_history
from evalhub.audit.services import changed_fields, edit_record
from tests.factories import ModelEntryFactory, PromptSetFactory

pytestmark = pytest.mark.django_db


def test_it_records_who_changed_what_on_any_object(alice):
    model = ModelEntryFactory(slug="m1")
    prompt_set = PromptSetFactory(slug="p1")
    first = edit_record(obj=model, actor=alice, action=EditRecord.Action.RENAMED,
                        before={"slug": "m0"}, after={"slug": "m1"})  # fmt: skip
    edit_record(obj=prompt_set, actor=AnonymousUser(), action=EditRecord.Action.DELETED,
                before={"prompts": 3, "set": prompt_set})  # fmt: skip
    assert (first.object_type, first.object_id, first.object_repr) == (
        "outputs.modelentry", model.pk, "m1")  # fmt: skip
    assert object_history(model) == [first]
    (gone,) = object_history(prompt_set)
    assert gone.actor is None and gone.before == {"prompts": 3, "set": "p1"}  # JSON, by slug
    assert [r.object_type for r in edit_records()] == ["prompts.promptset", "outputs.modelentry"]
    assert list(edit_records(object_type="outputs.modelentry")) == [first]
    assert first.changes() == [("slug", '"m0"', '"m1"')]


def test_only_the_fields_that_changed_are_kept():
    before, after = changed_fields({"a": 1, "b": [1, 2], "c": "x"}, {"a": 1, "b": [2], "c": "y"})
    assert (before, after) == ({"b": [1, 2], "c": "x"}, {"b": [2], "c": "y"})
