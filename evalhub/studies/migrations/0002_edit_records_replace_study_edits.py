"""Study edits move into the one edit record (evalhub.audit.EditRecord): each StudyEdit's
{field: [before, after]} becomes the record's before and after, then StudyEdit goes."""

from django.db import migrations


def copy_study_edits(apps, schema_editor):
    StudyEdit = apps.get_model("studies", "StudyEdit")
    EditRecord = apps.get_model("audit", "EditRecord")
    records = [
        EditRecord(
            object_type="studies.study", object_id=edit.study_id, object_repr=edit.study.slug,
            actor_id=edit.by_id, action="settings_changed",
            before={field: pair[0] for field, pair in edit.changes.items()},
            after={field: pair[1] for field, pair in edit.changes.items()},
        )
        for edit in StudyEdit.objects.select_related("study").order_by("id")
    ]
    made = EditRecord.objects.bulk_create(records)
    # bulk_create sets auto_now_add to now: keep each edit's own time.
    for record, edit in zip(made, StudyEdit.objects.order_by("id"), strict=True):
        EditRecord.objects.filter(pk=record.pk).update(at=edit.at)


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0001_studies_items_judgments"),
        ("audit", "0001_edit_records"),
    ]

    operations = [
        migrations.RunPython(copy_study_edits, migrations.RunPython.noop),
        migrations.DeleteModel(name="StudyEdit"),
    ]
