"""AlpacaEval LC in a study's results: instruction difficulty from every model judged against
the same baseline, on the same prompt set, by the same judge group."""

import random

import pytest

from evalhub.dashboards.selectors.alpaca_lc import length_controlled_for
from evalhub.dashboards.selectors.results import compute_study_results
from evalhub.fits.models import SharedFit
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Item, Judgment, Study
from tests.factories import lab_team
from tests.support import wait_until

pytestmark = pytest.mark.django_db
N = 30


def _studies(targets: list[str]) -> dict[str, Study]:
    prompt_set = PromptSet.objects.create(slug="shared", name="shared")
    prompts = [Prompt.objects.create(prompt_set=prompt_set, external_id=f"q{i}", position=i,
                                     text=f"Question {i}?") for i in range(N)]  # fmt: skip
    baseline = ModelEntry.objects.create(slug="base", name="base")
    rng = random.Random(0)
    studies = {}
    for t, slug in enumerate(targets):
        model = ModelEntry.objects.create(slug=slug, name=slug)
        study = Study.objects.create(team=lab_team(), slug=f"s-{slug}", name=slug, prompt_set=prompt_set,
                                     target_model=model, kind=Study.Kind.PAIRWISE)  # fmt: skip
        study.baselines.set([baseline])
        for i, prompt in enumerate(prompts):
            tgt = Output.objects.create(prompt=prompt, model=model, text="x" * rng.randint(20, 400))
            base, _ = Output.objects.get_or_create(
                prompt=prompt, model=baseline, defaults={"text": "y" * (50 + 7 * i)}
            )
            item = Item.objects.create(study=study, prompt=prompt, target_output=tgt,
                                       baseline_output=base)  # fmt: skip
            better = rng.random() < 0.3 + 0.2 * t
            Judgment.objects.create(
                item=item,
                judge_group="llm:weighted",
                order="target_first",
                verdict="target" if better else "baseline",
                preference=min(max(rng.gauss(0.7 if better else 0.3, 0.1), 0.0), 1.0),
            )
        studies[slug] = study
    return studies


@pytest.mark.django_db(transaction=True)
def test_three_models_give_the_v1_formula_and_two_the_minimal_one(celery_worker):
    studies = _studies(["m1", "m2", "m3"])
    length_controlled_for(studies["m2"], "base", "llm:weighted")  # queues the shared fit
    wait_until(lambda: SharedFit.objects.filter(status="done").exists(), timeout=60)
    lc = length_controlled_for(studies["m2"], "base", "llm:weighted")
    assert lc["formula"] == "length_controlled_v1"
    assert lc["models_for_difficulty"] == ["m1", "m2", "m3"]
    assert lc["n"] == N and 0 <= lc["length_controlled_win_rate"] <= 1
    (shown,) = compute_study_results(studies["m2"])["length_controlled"]
    assert shown == lc


def test_fewer_than_three_models_use_the_minimal_formula_and_say_so():
    studies = _studies(["m1", "m2"])
    lc = length_controlled_for(studies["m1"], "base", "llm:weighted")
    assert lc["formula"] == "length_controlled_minimal"
    assert "fewer than 3" in lc["formula_note"]
    assert lc["difficulty_coefficient"] == 0.0
