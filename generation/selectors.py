"""Reads for generation: which (prompt, sample) pairs a model still lacks."""

from __future__ import annotations

from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet


def samples_missing(
    *, model: ModelEntry, prompt_set: PromptSet, samples: int
) -> list[tuple[Prompt, int]]:
    """(prompt, sample index) pairs of the set, in prompt order, with no output yet from
    `model`, for sample indexes 0..samples-1."""
    have = set(
        Output.objects.filter(
            model=model, prompt__prompt_set=prompt_set, sample_index__lt=samples
        ).values_list("prompt_id", "sample_index")
    )
    return [
        (prompt, index)
        for prompt in prompt_set.prompts.order_by("position", "id")
        for index in range(samples)
        if (prompt.pk, index) not in have
    ]
