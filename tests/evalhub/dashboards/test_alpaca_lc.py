"""AlpacaEval LC in a study's results: instruction difficulty from every model judged against
the same baseline, on the same prompt set, by the same judge group."""

import random

import numpy as np
import pytest

from evalhub.dashboards.selectors import alpaca_lc
from evalhub.dashboards.selectors.alpaca_lc import (
    LC_KIND,
    length_controlled_for,
    length_controlled_inputs,
)
from evalhub.dashboards.selectors.difficulty import KIND, difficulty_inputs, scope_rows
from evalhub.dashboards.selectors.results import compute_study_results
from evalhub.fits.models import SharedFit
from evalhub.fits.services import shared_fit_refresh
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.stats import alpaca_lc as alpaca_lc_stats
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


SCOPE = ("base", "llm:weighted")


def lc_landed(study: Study) -> dict | None:
    """The study's LC once the worker's fit of the current data and difficulty is shown."""
    lc = length_controlled_for(study, *SCOPE)
    return lc if lc and lc["current"] and not lc["updating"] and lc["difficulty_current"] else None


def _lc_refresh(study: Study) -> None:
    """What the worker's `fit` job does for the study's LC (no worker in these tests)."""
    shared_fit_refresh(kind=LC_KIND, inputs=length_controlled_inputs(study.pk, [SCOPE]))


@pytest.mark.django_db(transaction=True)
def test_three_models_give_the_v1_formula_and_two_the_minimal_one(celery_worker):
    studies = _studies(["m1", "m2", "m3"])
    length_controlled_for(studies["m2"], *SCOPE)  # queues the shared fits
    lc = wait_until(lambda: lc_landed(studies["m2"]), timeout=60)
    assert lc["formula"] == "length_controlled_v1"
    assert lc["models_for_difficulty"] == ["m1", "m2", "m3"]
    assert lc["n"] == N and 0 <= lc["length_controlled_win_rate"] <= 1
    (shown,) = compute_study_results(studies["m2"])["length_controlled"]
    assert shown == lc


@pytest.mark.django_db(transaction=True)
def test_the_workers_lc_is_exactly_the_direct_fit(celery_worker):
    """The stored LC is the estimator's own numbers, bit for bit (parity with alpaca-eval
    is tests/evalhub/stats/test_alpaca_lc.py's, on the same function)."""
    studies = _studies(["m1", "m2", "m3"])
    length_controlled_for(studies["m3"], *SCOPE)
    lc = wait_until(lambda: lc_landed(studies["m3"]), timeout=60)
    inputs = difficulty_inputs(studies["m3"].prompt_set_id, *SCOPE)
    difficulty = SharedFit.objects.get(kind=KIND, status="done").result
    rows = scope_rows(inputs, ["m3"])
    at = np.searchsorted(np.array(difficulty["prompts"]), rows["prompt"])
    fit = alpaca_lc_stats.length_controlled_fit(
        rows["preference"], rows["length_diff"], rows["model"],
        np.asarray(difficulty["difficulty"])[at],
    )  # fmt: skip
    assert lc["length_controlled_win_rate"] == float(fit.length_controlled[0])
    assert lc["win_rate"] == float(fit.win_rate[0]) and lc["c"] == float(fit.c[0])
    assert [lc["length_coefficient"], lc["difficulty_coefficient"], lc["intercept"]] == [
        float(v) for v in fit.coefficients[0]
    ]


def test_fewer_than_three_models_use_the_minimal_formula_and_say_so():
    studies = _studies(["m1", "m2"])
    _lc_refresh(studies["m1"])
    lc = length_controlled_for(studies["m1"], *SCOPE)
    assert lc["formula"] == "length_controlled_minimal" and lc["current"]
    assert "fewer than 3" in lc["formula_note"]
    assert lc["difficulty_coefficient"] == 0.0


def test_a_results_request_fits_nothing_while_pending_and_after(monkeypatch):
    """The GLM (and the difficulty fit) run only in the worker's job: a request that finds
    no fit says "updating" with no number, and one that finds it reads it."""
    studies = _studies(["m1", "m2"])
    calls: list[str] = []
    real_fit = alpaca_lc.length_controlled_fit

    def counted(*args, **kwargs):
        calls.append("fit")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(alpaca_lc, "length_controlled_fit", counted)
    (pending,) = compute_study_results(studies["m1"])["length_controlled"]
    assert calls == []
    assert pending["updating"] is True and pending["current"] is False
    assert pending["formula"] is None and pending["length_controlled_win_rate"] is None
    assert pending["n"] == N and "worker" in pending["formula_note"]
    _lc_refresh(studies["m1"])  # the worker's side
    assert calls == ["fit"]
    (landed,) = compute_study_results(studies["m1"])["length_controlled"]
    assert calls == ["fit"]  # read, not fitted again
    assert landed["formula"] == "length_controlled_minimal" and landed["current"]
    assert landed["updating"] is False


def test_a_study_with_many_scopes_fits_the_rows_scope_column():
    """4 baselines x 4 judge groups name more than the 300 characters of `scope`."""
    from evalhub.fits.registry import fit_kind

    scopes = [(f"baseline-model-{b:02d}", f"llm:judge-group-{g:02d}") for b in range(4)
              for g in range(4)]  # fmt: skip
    scope = fit_kind(LC_KIND).scope(length_controlled_inputs(1, scopes))
    assert len(scope) <= 300 and scope.startswith("study=1|")
