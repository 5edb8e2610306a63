"""Fixtures for generation tests: prompt sets and model entries for the tiny model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from tests.factories import ModelEntryFactory, PromptFactory, PromptSetFactory


@pytest.fixture
def make_prompt_set() -> Callable[..., PromptSet]:
    """make_prompt_set(slug, n) -> a set of n short prompts (one multi-turn among them)."""

    def make(slug: str, n: int) -> PromptSet:
        prompt_set = PromptSetFactory(slug=slug)
        for i in range(n):
            context = (
                [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
                if i == 1
                else []
            )
            PromptFactory(
                prompt_set=prompt_set,
                external_id=f"q{i}",
                text=f"Question {i}: how do I make a good cup of coffee?",
                context=context,
                position=i,
            )
        return prompt_set

    return make


@pytest.fixture
def tiny_lima(tiny_model_dir: Path) -> ModelEntry:
    """The tiny model as a local (vLLM) model entry."""
    return ModelEntryFactory(
        slug="tiny-lima", kind=ModelEntry.Kind.LOCAL, model_path=str(tiny_model_dir)
    )
