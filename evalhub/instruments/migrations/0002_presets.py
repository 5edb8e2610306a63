"""The presets: LIMA's pairwise and Fail / Pass / Excellent forms (today's text), Chatbot
Arena's 4-way choice, Arena-Hard's 5-point scale, a human Likert helpfulness scale (1-6) and
a safety label set."""

from django.db import migrations


def install(apps, schema_editor):
    from evalhub.instruments.services import presets_install

    presets_install(apps.get_model("instruments", "Instrument"))


class Migration(migrations.Migration):
    dependencies = [('instruments', '0001_instruments')]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
