import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0003_team_owner"),
        ("teams", "0002_existing_data_into_one_team"),
    ]

    operations = [
        migrations.AlterField(
            model_name="study",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="studies",
                to="teams.team",
            ),
        ),
    ]
