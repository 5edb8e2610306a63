"""Existing studies ask their kind's LIMA preset, as they did before instruments were data."""

from django.db import migrations

PRESET_FOR_STUDY_KIND = {
    "pairwise": "lima-pairwise",
    "absolute": "lima-fail-pass-excellent",
    "dialogue": "lima-fail-pass-excellent",
    "likert": "likert-helpfulness",
}


def assign(apps, schema_editor):
    Study = apps.get_model("studies", "Study")
    Instrument = apps.get_model("instruments", "Instrument")
    for kind, slug in PRESET_FOR_STUDY_KIND.items():
        preset = Instrument.objects.filter(slug=slug, version=1).first()
        if preset is not None:
            Study.objects.filter(kind=kind, instrument__isnull=True).update(instrument=preset)


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0002_i16_instruments"),
        ("instruments", "0002_i16_presets"),
    ]
    operations = [migrations.RunPython(assign, migrations.RunPython.noop)]
