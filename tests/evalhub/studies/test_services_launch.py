import pytest

from evalhub.importing import InputError
from evalhub.outputs.services import output_fields
from evalhub.rating.models import ItemPage
from evalhub.studies.models import Item, Study
from evalhub.studies.services import (
    StudyStateError,
    config_hash,
    study_close,
    study_launch,
    study_reopen,
)
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, StudyFactory

pytestmark = pytest.mark.django_db


def pairwise_study(prompts=3, baselines=2, **fields):
    study = StudyFactory(**fields)
    models = [ModelEntryFactory() for _ in range(baselines)]
    study.baselines.set(models)
    made = []
    for n in range(prompts):
        prompt = PromptFactory(prompt_set=study.prompt_set)
        OutputFactory(prompt=prompt, model=study.target_model, **output_fields(f"**Good** {n}"))
        for model in models:
            OutputFactory(prompt=prompt, model=model, **output_fields(f"meh {n}"))
        made.append(prompt)
    return study, models, made


def test_it_makes_one_pairwise_item_per_prompt_and_baseline():
    study, models, prompts = pairwise_study(attention_check_rate=0)
    study = study_launch(study=study)
    items = Item.objects.filter(study=study)
    assert items.count() == 3 * 2
    assert {(i.prompt_id, i.baseline_output.model_id) for i in items} == {
        (p.pk, m.pk) for p in prompts for m in models
    }
    assert all(i.target_output.model_id == study.target_model_id for i in items)
    page = ItemPage.objects.get(item=items.first())
    assert "<strong>Good</strong>" in page.target_html and page.reading_chars > 0
    assert study.status == Study.Status.LAUNCHED and study.launched_at


def test_it_freezes_the_config_with_its_hash():
    study, models, _ = pairwise_study(raters_per_item=5, attention_check_rate=0.2)
    study = study_launch(study=study)
    config = study.config
    assert config["target"] == study.target_model.slug
    assert config["baselines"] == sorted(m.slug for m in models)
    assert config["raters_per_item"] == 5 and config["attention_checks"]["rate"] == 0.2
    assert config["attention_checks"]["max_failures"] == 2
    assert config["completion_code"] == "DONE123" and config["screenout_code"] == "SCREEN456"
    assert config["items"]["real"] == 6 and config["items"]["gold"] >= 2
    assert study.config_hash == config_hash(config) and len(study.config_hash) == 64
    # Changing the live fields later does not change what was frozen.
    Study.objects.filter(pk=study.pk).update(raters_per_item=9)
    study.refresh_from_db()
    assert study.config["raters_per_item"] == 5 and study.config_hash == config_hash(study.config)


def test_the_same_setup_hashes_the_same_and_a_different_one_differently():
    a, _, _ = pairwise_study(slug="same", attention_check_rate=0)
    launched = study_launch(study=a)
    hash_a = launched.config_hash
    assert config_hash(dict(launched.config)) == hash_a
    changed = dict(launched.config, raters_per_item=4)
    assert config_hash(changed) != hash_a


def test_it_adds_gold_items_at_the_rate_with_a_plainly_broken_answer():
    study, _, _ = pairwise_study(prompts=10, baselines=1, attention_check_rate=0.3)
    study_launch(study=study)
    gold = Item.objects.filter(study=study, is_gold=True)
    # max(2, ceil(10 real * 0.3), ceil(quota 20 * 0.3) + 1), at most one per prompt
    assert gold.count() == 7
    for item in gold:
        assert item.gold_answer == "target"
        page = item.page
        assert page.is_gold and "Good" in page.target_html
        # A word salad: no sentences, no markup, words repeated.
        salad = page.baseline_html.removeprefix("<p>").removesuffix("</p>\n")
        assert "." not in salad and "<" not in salad and len(salad.split()) >= 40


def test_prompts_missing_an_output_are_left_out_and_listed():
    study, models, prompts = pairwise_study(prompts=3, baselines=2, attention_check_rate=0)
    prompts[0].outputs.filter(model=models[0]).delete()
    prompts[2].outputs.filter(model=study.target_model).delete()
    study_launch(study=study)
    study.refresh_from_db()
    assert study.status == Study.Status.LAUNCHED
    assert study.config["prompts_left_out"] == [prompts[0].external_id, prompts[2].external_id]
    items = Item.objects.filter(study=study)
    assert {i.prompt_id for i in items} == {prompts[1].pk} and items.count() == 2


def test_a_study_with_no_covered_prompt_cannot_launch():
    study, models, prompts = pairwise_study(prompts=2, baselines=1)
    prompts[0].outputs.filter(model=models[0]).delete()
    prompts[1].outputs.filter(model=study.target_model).delete()
    with pytest.raises(InputError) as exc:
        study_launch(study=study)
    assert "no prompt of" in str(exc.value) and "has an output from every chosen model" in str(
        exc.value
    )
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT and not study.config_hash
    assert not Item.objects.filter(study=study).exists()


def test_a_closed_study_reopens():
    study, _, _ = pairwise_study(prompts=2, baselines=1)
    study_launch(study=study)
    study_close(study=study)
    study_reopen(study=study)
    study.refresh_from_db()
    assert study.status == Study.Status.LAUNCHED and study.closed_at is None
    with pytest.raises(StudyStateError):
        study_reopen(study=study)


def test_absolute_study_rates_the_target_output_alone():
    study, _, _ = pairwise_study(prompts=3, kind=Study.Kind.ABSOLUTE, attention_check_rate=0)
    study_launch(study=study)
    items = Item.objects.filter(study=study)
    assert items.count() == 3 and all(i.baseline_output_id is None for i in items)


def test_dialogue_study_rates_every_assistant_turn():
    study = StudyFactory(kind=Study.Kind.DIALOGUE, attention_check_rate=0)
    prompt = PromptFactory(
        prompt_set=study.prompt_set,
        text="And in winter?",
        context=[{"role": "user", "content": "Best time to visit Oslo?"},
                 {"role": "assistant", "content": "Summer."}],
    )  # fmt: skip
    OutputFactory(prompt=prompt, model=study.target_model, text="June.", turns=["June.", "Skiing."])
    study_launch(study=study)
    page = Item.objects.get(study=study).page
    assert [t["user_html"] for t in page.turns] == [
        "<p>Best time to visit Oslo?</p>\n",
        "<p>And in winter?</p>\n",
    ]
    assert "Skiing." in page.turns[1]["assistant_html"]


def test_dialogue_turns_that_do_not_fit_the_prompt_stop_launch():
    study = StudyFactory(kind=Study.Kind.DIALOGUE, attention_check_rate=0)
    prompt = PromptFactory(prompt_set=study.prompt_set, external_id="conv-7")
    OutputFactory(prompt=prompt, model=study.target_model, turns=["a", "b", "c"])
    with pytest.raises(InputError, match="conv-7"):
        study_launch(study=study)


def test_a_launched_study_cannot_launch_again_and_closes_once():
    study, _, _ = pairwise_study(attention_check_rate=0)
    study_launch(study=study)
    with pytest.raises(StudyStateError):
        study_launch(study=study)
    closed = study_close(study=study)
    assert closed.status == Study.Status.CLOSED and closed.closed_at
    with pytest.raises(StudyStateError):
        study_close(study=study)


def test_a_pairwise_study_needs_a_baseline():
    study = StudyFactory()
    PromptFactory(prompt_set=study.prompt_set)
    with pytest.raises(InputError, match="baseline"):
        study_launch(study=study)
