"""Studies ready to rate: launched, with outputs for every prompt. Import `make_study`
into a test module (or conftest) to use it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evalhub.outputs.services import output_fields
from evalhub.studies.models import Study
from evalhub.studies.services import study_launch
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, StudyFactory

GOOD = "Paris is the capital of France. It has been the capital since the 10th century."


@pytest.fixture(name="make_study")
def make_study_fixture(db) -> Callable[..., Study]:
    """make_study(prompts=4, baselines=1, launch=True, **study fields) -> Study."""

    def make(prompts: int = 4, baselines: int = 1, launch: bool = True, **fields) -> Study:
        fields.setdefault("attention_check_rate", 0.0)
        study = StudyFactory(**fields)
        models = [
            ModelEntryFactory(slug=f"secret-baseline-{study.pk}-{n}") for n in range(baselines)
        ]
        study.baselines.set(models)
        for n in range(prompts):
            prompt = PromptFactory(
                prompt_set=study.prompt_set, text=f"Question {n}: what is the capital of France?"
            )
            OutputFactory(prompt=prompt, model=study.target_model, **output_fields(f"{GOOD} ({n})"))
            for model in models:
                OutputFactory(prompt=prompt, model=model, **output_fields(f"Paris. ({n})"))
        return study_launch(study=study) if launch else study

    return make
