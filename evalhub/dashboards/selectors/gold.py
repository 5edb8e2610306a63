"""Reads of the gold prompts researchers write: the expected class of each item."""

from __future__ import annotations

from evalhub.dashboards.selectors.crowd_fit import SCALES
from evalhub.studies.models import GoldPrompt, Item, Study


def gold_expectations(study: Study) -> dict[int, int]:
    """{item id: expected class} for the real items of the study's gold prompts."""
    if study.kind not in SCALES:
        return {}
    classes = SCALES[study.kind][0]
    expected = dict(GoldPrompt.objects.filter(study=study).values_list("prompt_id", "expected"))
    if not expected:
        return {}
    return {
        item_id: classes[expected[prompt_id]]
        for item_id, prompt_id in Item.objects.filter(
            study=study, is_gold=False, prompt_id__in=expected
        ).values_list("id", "prompt_id")
        if expected[prompt_id] in classes
    }
