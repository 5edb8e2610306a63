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


def test_the_demo_researcher_creates_and_launches_a_study_in_the_workspace(client):
    from django.urls import reverse

    from evalhub.demo.services import DEMO_RESEARCHER, DEMO_SET
    from evalhub.studies.models import Study

    demo_load()
    assert client.login(username=DEMO_RESEARCHER[0], password=DEMO_RESEARCHER[1])
    assert b"nav-links" in client.get(reverse("workspace:studies")).content
    form = {
        "slug": "my-study", "name": "Mine", "kind": "pairwise", "prompt_set": DEMO_SET,
        "target_model": TARGET, "baselines": list(BASELINES.values())[:1],
        "raters_per_item": 2, "attention_check_rate": 0.1, "session_quota": 10,
        "reservation_minutes": 15,
    }  # fmt: skip
    created = client.post(reverse("workspace:study_new"), form)
    assert created.status_code == 302, created.context["form"].errors
    client.post(reverse("workspace:study_transition", args=["my-study", "launch"]))
    study = Study.objects.get(slug="my-study")
    assert study.status == "launched" and study.items.filter(is_gold=False).count() == (
        Prompt.objects.filter(prompt_set__slug=DEMO_SET).count()
    )
