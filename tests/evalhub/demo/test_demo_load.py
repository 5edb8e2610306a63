import pytest

from evalhub.demo.services import BASELINES, DEMO_STUDY, TARGET, demo_load
from evalhub.outputs.models import Output
from evalhub.prompts.models import Prompt

pytestmark = pytest.mark.django_db


def mean_words(model_slug: str) -> float:
    texts = Output.objects.filter(model__slug=model_slug).values_list("text", flat=True)
    return sum(len(t.split()) for t in texts) / len(texts)


def test_it_loads_a_varied_demo_study():
    data = demo_load()
    assert data.study.slug == DEMO_STUDY
    prompts = Prompt.objects.filter(prompt_set=data.prompt_set)
    assert prompts.count() >= 30
    assert {"advice", "writing", "coding", "planning", "knowledge"} <= set(
        prompts.values_list("category", flat=True)
    )
    assert sum(p.is_multi_turn for p in prompts) >= 3
    assert set(data.study.baselines.values_list("slug", flat=True)) == set(BASELINES.values())
    # The baselines are visibly shorter than the target.
    for slug in BASELINES.values():
        assert Output.objects.filter(model__slug=slug).count() == prompts.count()
        assert mean_words(slug) * 2 < mean_words(TARGET)


def test_loading_twice_changes_nothing():
    demo_load()
    before = Output.objects.count()
    assert demo_load().created is False
    assert Output.objects.count() == before
