"""Judge registration, version hashes, templates, the pre-run estimate and the budget cap."""

from decimal import Decimal

import pytest

from evalhub.jobs.models import Job
from evalhub.studies.models import Judge, Study
from generation.judging.config import JudgeConfigError, judge_config
from generation.judging.judge_prompts import builtin_prompt_template
from generation.judging.models import JudgePrice
from generation.judging.selectors import combine_orders, judge_run_estimate
from generation.judging.services import (
    JudgeBudgetExceeded,
    JudgeRunConflict,
    judge_register,
    judge_run_create,
    judge_version_hash,
)
from tests.factories import lab_team
from tests.generation.judging.conftest import make_study

pytestmark = pytest.mark.django_db

ENDPOINT = "http://127.0.0.1:9/v1"


def register(slug="gpt", **overrides) -> Judge:
    fields = {"slug": slug, "name": slug, "model": "gpt-x", "base_url": ENDPOINT,
              "template": Judge.Template.LIMA_PAIRWISE}  # fmt: skip
    return judge_register(team=lab_team(), **{**fields, **overrides})


def test_the_lima_instruments_ship_verbatim():
    text = builtin_prompt_template("lima_pairwise").text
    assert text.startswith("Imagine that you have a super-intelligent AI assistant")
    assert text.endswith("- Neither is significantly better.")
    likert = builtin_prompt_template("lima_likert").text
    assert "on its own line" in likert and "{submission}" not in likert


def test_a_response_cannot_fill_another_slot():
    rendered = builtin_prompt_template("lima_pairwise").render(
        {"prompt": "Q", "response_a": "see {response_b} and {prompt}", "response_b": "B!"}
    )
    assert "Answer A: see {response_b} and {prompt}" in rendered


def test_the_version_hash_follows_what_can_change_a_verdict_and_nothing_else():
    base = register()
    assert base.version_hash == judge_version_hash(base)
    assert register("temp", params={"temperature": 0.5}).version_hash != base.version_hash
    assert register("fpe", template="fail_pass_excellent").version_hash != base.version_hash
    assert register("free", verdict_mode="final_line").version_hash != base.version_hash
    ops = register("fast", params={"concurrency": 200, "rpm": 500, "timeout_s": 5})
    assert ops.version_hash == base.version_hash
    assert register("elsewhere", base_url="http://10.0.0.1/v1").version_hash == base.version_hash


def test_registering_again_is_idempotent_but_a_changed_config_needs_a_new_slug():
    judge = register()
    assert register().pk == judge.pk
    with pytest.raises(JudgeConfigError, match="slug: judge 'gpt' exists"):
        register(params={"temperature": 1.0})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"params": {"tempreature": 0}}, "params: unknown keys"),
        ({"verdict_mode": "vibes"}, "verdict_mode"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"template": "custom", "custom_template": "Rate {answer}"}, "unknown slots"),
        ({"template": "custom", "custom_template": "{prompt} {response_a}"}, "custom_template"),
        ({"params": {"samples": 3}}, "params.samples"),
        ({"params": {"extra_body": ["x"]}}, "params.extra_body"),
    ],
)
def test_a_bad_config_is_refused_naming_the_field(overrides, field):
    with pytest.raises(JudgeConfigError, match=field):
        register(**overrides)
    assert not Judge.objects.exists()


def test_a_custom_template_with_named_slots_and_its_own_choices():
    judge = register(
        "custom", template="custom",
        custom_template="Q: {prompt}\nFirst: {response_a}\nSecond: {response_b}\nWhich?",
        params={"choices": {"First": "A", "Second": "B", "Same": "tie"}},
    )  # fmt: skip
    config = judge_config(judge)
    assert config.instrument.scale == "pairwise"
    assert config.instrument.choices == {"First": "A", "Second": "B", "Same": "tie"}


def test_the_estimate_prices_each_distinct_request_and_a_budget_cap_refuses_the_run():
    JudgePrice.objects.create(model="gpt-x", usd_per_mtok_in=10, usd_per_mtok_out=30)
    study = make_study(n_items=3, gold=1)
    judge = register()
    estimate = judge_run_estimate(judge=judge, study=study)
    assert estimate.units == 6 and estimate.calls == 6 and estimate.priced
    expected = (Decimal(estimate.tokens_in) * 10 + Decimal(estimate.tokens_out) * 30) / 10**6
    assert estimate.cost_usd == expected.quantize(Decimal("0.000001"))

    with pytest.raises(JudgeBudgetExceeded, match=r"budget_usd: .* over the budget of \$0.0001"):
        judge_run_create(judge=judge, study=study, budget_usd="0.0001")
    assert not Job.objects.exists()

    job = judge_run_create(judge=judge, study=study, budget_usd=1)
    assert job.kind == "judge" and job.queue == "judge"
    assert job.params["estimate"]["calls"] == 6
    with pytest.raises(JudgeRunConflict, match="already running"):
        judge_run_create(judge=judge, study=study)


def test_a_judge_must_fit_the_kind_of_study():
    study = make_study(kind=Study.Kind.LIKERT, n_items=1, gold=0)
    with pytest.raises(JudgeConfigError, match="cannot judge study"):
        judge_run_estimate(judge=register(), study=study)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("tie", ("tie",)), ("drop", ()), ("keep_both", ("target", "baseline"))],
)
def test_an_inconsistent_pair_is_combined_by_the_policy(policy, expected):
    flip = combine_orders("target", "baseline", policy)
    assert flip.verdicts == expected and flip.consistent is False
    same = combine_orders("baseline", "baseline", policy)
    assert same.verdicts == ("baseline",) and same.consistent is True
    assert combine_orders("target", None, policy).consistent is None


def test_a_seed_is_sent_for_single_samples_only():
    pairwise = judge_config(register("seeded-pair", params={"seed": 3}))
    likert = judge_config(
        register("seeded-likert", template=Judge.Template.LIMA_LIKERT, params={"seed": 3})
    )
    assert pairwise.completion_kwargs()["seed"] == 3
    assert likert.completion_kwargs()["n"] == 5
    assert "seed" not in likert.completion_kwargs()
