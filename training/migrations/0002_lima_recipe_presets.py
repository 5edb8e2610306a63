"""The two LIMA presets (Section 3): batch 32 / top dropout 0.3 (65B), 64 / 0.2 (7B).
Values are written out here, not imported, so the migration never changes."""

from django.db import migrations

COMMON = {
    "epochs": 15,
    "lr_start": 1e-5,
    "lr_end": 1e-6,
    "adam_beta1": 0.9,
    "adam_beta2": 0.95,
    "weight_decay": 0.1,
    "max_length": 2048,
    "eot_token": "<|eot|>",
    "assistant_only_loss": True,
    "micro_batch_tokens": 4096,
    "save_epochs": [5, 6, 7, 8, 9, 10],
    "max_grad_norm": None,
    "seed": 0,
}
PRESETS = [
    ("lima-65b", "LIMA 65B", {**COMMON, "batch_size": 32, "residual_dropout_top": 0.3}),
    ("lima-7b", "LIMA 7B", {**COMMON, "batch_size": 64, "residual_dropout_top": 0.2}),
]


def add_presets(apps, schema_editor):
    Recipe = apps.get_model("training", "Recipe")
    for slug, name, settings in PRESETS:
        Recipe.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "settings": settings,
                "is_preset": True,
                "description": "LIMA (Zhou et al., 2023), Section 3.",
            },
        )


def remove_presets(apps, schema_editor):
    apps.get_model("training", "Recipe").objects.filter(slug__in=[p[0] for p in PRESETS]).delete()


class Migration(migrations.Migration):
    dependencies = [('training', '0001_recipes_runs_checkpoints')]
    operations = [migrations.RunPython(add_presets, remove_presets)]
