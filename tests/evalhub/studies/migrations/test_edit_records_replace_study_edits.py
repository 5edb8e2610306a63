"""Migration studies 0002: each StudyEdit becomes an EditRecord (who, when, before and
after kept), and StudyEdit goes."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("studies", "0001_studies_items_judgments"), ("audit", "0001_edit_records")]
AFTER = [("studies", "0002_edit_records_replace_study_edits")]


def migrated(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_study_edits_become_edit_records(alice):
    try:
        old = migrated(BEFORE)
        prompt_set = old.get_model("prompts", "PromptSet").objects.create(slug="ps", name="ps")
        model = old.get_model("outputs", "ModelEntry").objects.create(slug="m", name="m")
        study = old.get_model("studies", "Study").objects.create(
            slug="s1", name="S1", prompt_set=prompt_set, target_model=model
        )
        StudyEdit = old.get_model("studies", "StudyEdit")
        edit = StudyEdit.objects.create(study=study, by_id=alice.pk,
                                        changes={"completion_code": ["", "C0DE"]})  # fmt: skip
        at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        StudyEdit.objects.filter(pk=edit.pk).update(at=at)

        new = migrated(AFTER)
        (record,) = new.get_model("audit", "EditRecord").objects.all()
        assert (record.object_type, record.object_id, record.object_repr) == (
            "studies.study", study.pk, "s1")  # fmt: skip
        assert (record.actor_id, record.action, record.at) == (alice.pk, "settings_changed", at)
        assert (record.before, record.after) == ({"completion_code": ""}, {"completion_code": "C0DE"})
        assert "studies_studyedit" not in connection.introspection.table_names()
    finally:
        migrated(MigrationExecutor(connection).loader.graph.leaf_nodes())
