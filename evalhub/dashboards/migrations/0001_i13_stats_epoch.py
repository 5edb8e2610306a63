from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="StatsEpoch",
            fields=[
                ("scope", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("epoch", models.BigIntegerField(default=1)),
            ],
        ),
    ]
