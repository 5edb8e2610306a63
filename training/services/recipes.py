"""Custom recipes. The LIMA presets are made by migration 0002."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from evalhub.importing import InputError
from training.models import Recipe
from training.recipes import RecipeSettings


@transaction.atomic
def recipe_create(
    *, slug: str, name: str, settings: dict[str, Any], description: str = ""
) -> Recipe:
    """A custom recipe: `settings` overrides RecipeSettings' defaults (LIMA's). Raises
    InputError naming each bad field, or a taken slug."""
    if Recipe.objects.filter(slug=slug).exists():
        raise InputError.single(0, f"recipe {slug!r} already exists", "slug")
    checked = RecipeSettings.from_dict(settings)
    return Recipe.objects.create(
        slug=slug, name=name or slug, settings=checked.to_dict(), description=description
    )


def recipe_presets_ensure() -> list[Recipe]:
    """Create the LIMA presets if missing (migration 0002 makes them too, but a flushed
    test database or a deleted row must not leave the form without them)."""
    from training.recipes import PRESETS

    out = []
    for slug, (name, preset) in PRESETS.items():
        recipe, _ = Recipe.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "settings": preset.to_dict(),
                "is_preset": True,
                "description": "LIMA (Zhou et al., 2023), Section 3.",
            },
        )
        out.append(recipe)
    return out
