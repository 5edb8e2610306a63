"""Weighted judges: P(target better) from the verdict token's logprobs, against the real
`vllm serve` of the tiny model, through the real Celery worker, in both orders."""

import json
import math

import pytest

from evalhub.dashboards.selectors.results import compute_study_results
from evalhub.studies.models import Judge, Judgment
from generation.judging.judge_prompts import builtin_prompt_template
from generation.judging.planning import judge_group_name
from generation.judging.services import judge_run_create
from generation.judging.verdicts import (
    WEIGHTED,
    WEIGHTED_CHOICES,
    parse_weighted,
    target_preference,
)
from tests.generation.judging.conftest import make_study
from tests.generation.judging.test_judge_run import run_to_end, tiny_judge

WEIGHTED_LIMA = builtin_prompt_template("lima_pairwise")
WEIGHTED_LIMA = type(WEIGHTED_LIMA)(
    WEIGHTED_LIMA.name, WEIGHTED_LIMA.text, WEIGHTED_LIMA.scale, dict(WEIGHTED_CHOICES)
)


def test_probability_is_normalised_over_the_verdict_tokens() -> None:
    top = {"A": math.log(0.4), " B": math.log(0.1), "B": math.log(0.1), "The": math.log(0.3)}
    answer = parse_weighted(json.dumps({"content": "A", "top_logprobs": top}), WEIGHTED_LIMA)
    assert answer.ok and answer.meaning == "A"
    assert answer.probability_a == pytest.approx(0.4 / 0.6)
    assert target_preference([answer], "target_first") == pytest.approx(2 / 3)
    answer = parse_weighted(
        json.dumps({"content": "B", "top_logprobs": {"A": math.log(0.1), "B": math.log(0.6)}}),
        WEIGHTED_LIMA,
    )
    assert answer.meaning == "B"
    assert target_preference([answer], "baseline_first") == pytest.approx(6 / 7)


def test_an_answer_without_verdict_tokens_is_a_parse_failure() -> None:
    answer = parse_weighted(
        json.dumps({"content": "x", "top_logprobs": {"x": -0.1}}), WEIGHTED_LIMA
    )
    assert not answer.ok and "no verdict token" in answer.error
    assert not parse_weighted("A", WEIGHTED_LIMA).ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.vllm
def test_a_weighted_judge_stores_a_probability_in_both_orders(celery_worker, vllm_server):
    study = make_study(n_items=3, gold=0)
    # vLLM applies the choice grammar before it computes logprobs, so the tiny random model's
    # top logprobs hold both verdict tokens; a real judge (GPT-4) needs no such help.
    judge = tiny_judge(
        vllm_server, slug="tiny-weighted", verdict_mode=WEIGHTED,
        params={"seed": 0, "extra_body": {"structured_outputs": {"choice": ["A", "B"]}}},
    )  # fmt: skip
    assert judge.verdict_mode == Judge.VerdictMode.WEIGHTED

    run_to_end(judge_run_create(judge=judge, study=study))

    rows = list(Judgment.objects.filter(judge=judge))
    assert sorted(r.order for r in rows) == ["baseline_first"] * 3 + ["target_first"] * 3
    for row in rows:
        assert row.parse_state == "ok"
        assert 0.0 <= row.preference <= 1.0
        top = json.loads(row.raw_response)["top_logprobs"]
        mass_a = sum(math.exp(v) for k, v in top.items() if k.strip() == "A")
        mass_b = sum(math.exp(v) for k, v in top.items() if k.strip() == "B")
        p_a = mass_a / (mass_a + mass_b)
        expected = p_a if row.order == "target_first" else 1.0 - p_a
        assert row.preference == pytest.approx(expected)
        assert row.verdict == ("target" if row.preference > 0.5 else "baseline")
    (weighted,) = compute_study_results(study)["weighted"]
    assert weighted["judge_group"] == judge_group_name(judge)
    assert (weighted["n"], weighted["n_continuous"]) == (6, 6)
    assert weighted["win_rate"] == pytest.approx(sum(r.preference for r in rows) / 6)
    assert weighted["standard_error"] >= 0
