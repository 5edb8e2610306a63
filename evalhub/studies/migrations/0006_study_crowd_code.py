"""Each study gets a public crowd code, the only thing its crowd and live links name: slugs
become unique within a team only, and a link must not reveal the team's naming. Existing
studies get a fresh code each (added nullable, filled row by row, then made unique)."""

import secrets

from django.db import migrations, models

import evalhub.studies.models


def fill_crowd_codes(apps, schema_editor) -> None:
    Study = apps.get_model("studies", "Study")
    for study in Study.objects.filter(crowd_code__isnull=True).only("pk"):
        Study.objects.filter(pk=study.pk).update(crowd_code=secrets.token_urlsafe(12))


class Migration(migrations.Migration):
    dependencies = [("studies", "0005_item_judgment_count_not_indexed")]

    operations = [
        migrations.AddField(
            model_name="study",
            name="crowd_code",
            field=models.CharField(max_length=32, null=True),
        ),
        migrations.RunPython(fill_crowd_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="study",
            name="crowd_code",
            field=models.CharField(
                default=evalhub.studies.models.new_crowd_code, max_length=32, unique=True
            ),
        ),
    ]
