"""judgments_import: other studies' judgments onto this study's items, in one transaction."""

import pytest

from evalhub.importing import InputError
from evalhub.studies.judgment_import import judgments_import
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_launch
from tests.evalhub.dashboards.conftest import lc_fits_land
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, StudyFactory

pytestmark = pytest.mark.django_db


def _study(kind: str, baselines: int = 1):
    study = StudyFactory(kind=kind, raters_per_item=1, attention_check_rate=0)
    models = [study.target_model] + [ModelEntryFactory(slug=f"base-{i}") for i in range(baselines)]
    study.baselines.set(models[1:])
    for i in (1, 2):
        prompt = PromptFactory(prompt_set=study.prompt_set, external_id=f"q{i}", text=f"Q{i}?")
        for model in models:
            OutputFactory(prompt=prompt, model=model)
    return study_launch(study=study)


def _import(study, rows, **kw):
    args = {"judge_group": "crowd", "imported_from": "old.json", **kw}
    return judgments_import(study=study, rows=list(enumerate(rows, start=1)), **args)


@pytest.mark.parametrize(
    ("preference", "generator_1_is_target", "verdict"),
    [(1, True, "target"), (2, True, "baseline"), (1, False, "baseline"), (1.2, False, "baseline"),
     (1.8, False, "target"), (0, True, "tie"), (1.5, False, "tie")],
)  # fmt: skip
def test_alpacaeval_preferences_become_verdicts(preference, generator_1_is_target, verdict):
    study = _study("pairwise")
    target, baseline = study.target_model.name, "Base 0"  # names are compared as slugs
    first, second = (target, baseline) if generator_1_is_target else (baseline, target)
    row = {
        "instruction": "Q1?",
        "generator_1": first,
        "generator_2": second,
        "preference": preference,
    }
    assert _import(study, [row]).created == 1
    judgment = Judgment.objects.get()
    assert judgment.verdict == verdict
    second_better = 0.5 if preference in (0, 1.5) else preference - 1
    expected = 1 - second_better if generator_1_is_target else second_better
    assert judgment.preference == pytest.approx(expected)
    assert judgment.order == ("target_first" if generator_1_is_target else "baseline_first")
    assert (judgment.judge_group, judgment.imported_from) == ("crowd", "old.json")
    assert judgment.rater_id is None and judgment.judge_id is None


def test_labels_go_onto_an_absolute_studys_items():
    study = _study("absolute")
    rows = [{"external_id": "q1", "label": "Excellent"}, {"external_id": "q2", "verdict": "fail"}]
    assert _import(study, rows, judge_group="author").created == 2
    assert sorted(Judgment.objects.values_list("verdict", flat=True)) == ["excellent", "fail"]


def test_scores_go_onto_a_likert_studys_items():
    study = _study("likert")
    _import(study, [{"instruction": "Q1?", "score": 5}, {"instruction": "Q2?", "score": 2.5}])
    assert sorted(Judgment.objects.values_list("score", flat=True)) == [2.5, 5.0]


def test_every_bad_row_is_named_and_nothing_is_written():
    study = _study("likert")
    rows = [{"instruction": "Q1?", "score": 5}, {"instruction": "Q1?", "score": 7},
            {"external_id": "q2", "model": "someone-else", "score": 3},
            {"instruction": "Q2?", "score": 3, "order": ["x"]}]  # fmt: skip
    with pytest.raises(InputError) as err:
        _import(study, rows)
    assert [(p.row, p.field) for p in err.value.problems] == [
        (2, "score"),
        (3, "prompt"),
        (4, "order"),
    ]
    assert not Judgment.objects.exists()


def test_a_pairwise_row_must_name_its_baseline_when_there_are_several():
    study = _study("pairwise", baselines=2)
    with pytest.raises(InputError) as err:
        _import(study, [{"external_id": "q1", "verdict": "target"}])
    assert str(err.value) == "line 1: baseline: is missing (or give item_id)"
    assert (
        _import(study, [{"external_id": "q1", "baseline": "base-1", "verdict": "tie"}]).created == 1
    )


def test_the_judge_group_must_be_named():
    with pytest.raises(InputError, match="judge_group: must be 1 to 120 characters"):
        _import(_study("absolute"), [{"external_id": "q1", "label": "pass"}], judge_group=" ")


def test_continuous_preferences_give_the_weighted_win_rate_and_keep_discrete_counts():
    """AlpacaEval rows with weighted preferences, target as generator_2: the results' weighted
    win rate is the mean of (preference - 1), and the discrete shares are those of the verdicts
    the nearer side gives (the counts AlpacaEval's discrete win rate uses)."""
    from evalhub.dashboards.selectors.results import compute_study_results

    study = StudyFactory(kind="pairwise", raters_per_item=1, attention_check_rate=0)
    base = ModelEntryFactory(slug="base-0")
    study.baselines.set([base])
    prefs = [1.93, 1.07, 1.5, 1.61, 1.22, 1.99, 1.35, 1.8, 0, 1.45]
    for i in range(len(prefs)):
        prompt = PromptFactory(prompt_set=study.prompt_set, external_id=f"q{i}", text=f"Q{i}?")
        for model in (study.target_model, base):
            OutputFactory(prompt=prompt, model=model)
    study = study_launch(study=study)
    rows = [
        {"instruction": f"Q{i}?", "generator_1": "base-0", "generator_2": study.target_model.slug,
         "preference": p}
        for i, p in enumerate(prefs)
    ]  # fmt: skip
    _import(study, rows, judge_group="llm:weighted-gpt4")
    results = compute_study_results(study)
    (weighted,) = results["weighted"]
    shifted = [0.5 if p == 0 else p - 1 for p in prefs]
    assert weighted["win_rate"] == pytest.approx(sum(shifted) / len(shifted))
    assert weighted["n"] == 10 and weighted["n_continuous"] == 10
    assert weighted["interval"]["low"] <= weighted["win_rate"] <= weighted["interval"]["high"]
    assert weighted["standard_error"] > 0
    (pairwise,) = results["pairwise"]
    wins = sum(p > 1.5 for p in prefs)
    ties = sum(p in (0, 1.5) for p in prefs)
    assert (pairwise["wins"], pairwise["ties"], pairwise["n_judgments"]) == (wins, ties, 10)
    assert weighted["discrete_win_rate"] == pytest.approx((wins + ties / 2) / 10)
    lc_fits_land(study)  # LC is a worker's shared fit; no worker here
    (lc,) = compute_study_results(study)["length_controlled"]
    assert lc["formula"] == "length_controlled_minimal"
    assert "fewer than 3" in lc["formula_note"]
