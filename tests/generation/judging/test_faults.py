"""Faults between the judge and a real `vllm serve`, made by a small proxy: each is retried
and ends in a verdict or an explicit failure; nothing is duplicated or cached from failure."""

from collections import Counter, deque

import pytest

from evalhub.studies.models import Judge, Judgment
from generation.judging.models import JudgeCall, VerdictCacheEntry
from generation.judging.services import judge_register, judge_run_create
from tests.factories import lab_team
from tests.generation.judging.conftest import make_study
from tests.generation.judging.test_judge_run import run_to_end

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.vllm]


def proxied_judge(base_url: str, slug: str, **params) -> Judge:
    return judge_register(team=lab_team(),
        slug=slug, name=slug, model="tiny", base_url=base_url,
        template=Judge.Template.LIMA_PAIRWISE,
        # A generous timeout: a loaded 2-core CI machine must not time out a real answer.
        params={"seed": 0, "timeout_s": 8.0, "backoff_base_s": 0.05, **params},
    )  # fmt: skip


def test_429_500_timeout_and_malformed_are_each_retried_to_a_verdict(celery_worker, fault_proxy):
    fault_proxy.faults = deque(["429", "500", "timeout", "malformed"])
    fault_proxy.retry_after_s = 1.0
    fault_proxy.hang_s = 20.0
    study = make_study(n_items=2, gold=0)
    judge = proxied_judge(fault_proxy.base_url, "faulty")

    run_to_end(judge_run_create(judge=judge, study=study))

    rows = Judgment.objects.filter(judge=judge)
    assert rows.count() == 4
    assert set(rows.values_list("parse_state", flat=True)) == {"ok"}
    outcomes = Counter(JudgeCall.objects.filter(judge=judge).values_list("outcome", flat=True))
    assert outcomes == {"ok": 4, "rate_limited": 1, "server_error": 1, "timeout": 1, "malformed": 1}
    # The real server saw each request exactly once: no duplicated call, none lost.
    forwarded = [s.body_sha for s in fault_proxy.forwarded()]
    assert len(forwarded) == 4 and len(set(forwarded)) == 4
    assert sorted(s.fault for s in fault_proxy.injected()) == ["429", "500", "malformed", "timeout"]
    # The retry after the 429 waited at least the retry-after the proxy sent.
    limited = next(s for s in fault_proxy.injected() if s.fault == "429")
    retry = next(
        s for s in fault_proxy.seen if s.body_sha == limited.body_sha and s.at > limited.at
    )
    assert retry.at - limited.at >= 1.0
    assert VerdictCacheEntry.objects.filter(judge_version=judge.version_hash).count() == 4


def test_a_call_that_keeps_failing_fails_explicitly_uncached_and_a_rerun_fixes_it_in_place(
    celery_worker, fault_proxy
):
    fault_proxy.always = "500"
    study = make_study(n_items=1, gold=0)
    judge = proxied_judge(fault_proxy.base_url, "flaky", max_attempts=3)

    first = run_to_end(judge_run_create(judge=judge, study=study))

    rows = Judgment.objects.filter(judge=judge)
    assert rows.count() == 2
    assert set(rows.values_list("parse_state", flat=True)) == {"error"}
    assert all("gave up after 3 tries" in r.raw_response for r in rows)
    assert first.result["call_failed"] == 2
    calls = JudgeCall.objects.filter(judge=judge)
    assert calls.count() == 6 and set(calls.values_list("outcome", flat=True)) == {"server_error"}
    assert not VerdictCacheEntry.objects.filter(judge_version=judge.version_hash).exists()
    assert fault_proxy.forwarded() == []
    failed_ids = set(rows.values_list("pk", flat=True))

    fault_proxy.always = ""
    run_to_end(judge_run_create(judge=judge, study=study))

    rows = Judgment.objects.filter(judge=judge)
    assert set(rows.values_list("pk", flat=True)) == failed_ids  # updated, not duplicated
    assert set(rows.values_list("parse_state", flat=True)) == {"ok"}
    assert len(fault_proxy.forwarded()) == 2
    assert VerdictCacheEntry.objects.filter(judge_version=judge.version_hash).count() == 2


def test_a_refused_request_is_not_retried(celery_worker, vllm_server):
    study = make_study(n_items=1, gold=0)
    judge = judge_register(team=lab_team(),
        slug="no-such-model", name="x", model="not-served", base_url=vllm_server,
        template=Judge.Template.LIMA_PAIRWISE,
    )  # fmt: skip
    run_to_end(judge_run_create(judge=judge, study=study))
    calls = JudgeCall.objects.filter(judge=judge)
    assert calls.count() == 2  # one per order, no retries of a 404
    assert set(calls.values_list("outcome", flat=True)) == {"rejected"}
    assert set(calls.values_list("http_status", flat=True)) == {404}
    assert set(Judgment.objects.filter(judge=judge).values_list("parse_state", flat=True)) == {
        "error"
    }
