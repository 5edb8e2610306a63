"""The LIMA presets and custom recipes."""

import pytest

from evalhub.importing import InputError
from training.models import Recipe
from training.recipes import LIMA_7B, LIMA_65B, RecipeSettings
from training.services import recipe_create, recipe_presets_ensure

pytestmark = pytest.mark.django_db


def test_the_two_lima_presets_exist_with_the_papers_settings():
    recipe_presets_ensure()
    big = Recipe.objects.get(slug="lima-65b")
    small = Recipe.objects.get(slug="lima-7b")
    assert (big.name, big.settings["batch_size"], big.settings["residual_dropout_top"]) == (
        "LIMA 65B", 32, 0.3)  # fmt: skip
    assert (small.name, small.settings["batch_size"], small.settings["residual_dropout_top"]) == (
        "LIMA 7B", 64, 0.2)  # fmt: skip
    # The migration's literal values equal the code's presets.
    assert RecipeSettings.from_dict(big.settings) == LIMA_65B
    assert RecipeSettings.from_dict(small.settings) == LIMA_7B
    assert LIMA_65B.adam_beta2 == 0.95 and LIMA_65B.weight_decay == 0.1 and LIMA_65B.epochs == 15
    assert LIMA_65B.lr_start == 1e-5 and LIMA_65B.lr_end == 1e-6 and LIMA_65B.max_length == 2048


def test_a_custom_recipe_keeps_lima_defaults_for_what_it_does_not_set():
    recipe = recipe_create(slug="small-batch", name="Small batch", settings={"batch_size": 8})
    assert recipe.settings["batch_size"] == 8 and recipe.settings["epochs"] == 15


def test_bad_settings_are_refused_by_name():
    with pytest.raises(InputError) as caught:
        recipe_create(slug="x", name="x", settings={"batch_size": 0, "warmup": 10,
                                                     "save_epochs": [20]})  # fmt: skip
    assert "warmup: is not a recipe setting" in str(caught.value)
    with pytest.raises(InputError) as caught:
        recipe_create(slug="x", name="x", settings={"batch_size": 0, "save_epochs": [20]})
    assert "batch_size: must be a positive integer" in str(caught.value)
    assert "save_epochs: epochs [20] are outside 1..15" in str(caught.value)
    assert not Recipe.objects.filter(slug="x").exists()
