"""Writes for LLM judges: register a judge, create a judge run (estimated and capped), and
the job handler that runs it.

A run is resumable and never wastes a call: verdicts already parsed are skipped, cached ones
are copied without a call, identical requests are asked once, and only parsed answers enter
the cache. Failures (`parse_state` failed / error) are stored explicitly and re-tried by the
next run. Swap-consistency of pairwise items is written to `PairConsistency`."""

from __future__ import annotations

import queue
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create, job_progress
from evalhub.studies.models import Judge, Study
from evalhub.teams.models import Team
from generation.judging.config import (
    JudgeConfig,
    JudgeConfigError,
    judge_config,
    judge_config_from_fields,
)
from generation.judging.models import JudgeCall
from generation.judging.planning import (
    WorkUnit,
    work_units,
)
from generation.judging.runner import JudgeRequest, RequestOutcome, run_requests
from generation.judging.selectors import (
    RunEstimate,
    cached_keys,
    judge_price,
    judge_run_estimate,
    judge_runs_active,
    judged_ok_units,
)
from generation.judging.transport import judging_loop
from generation.judging.writer import RunWriter


class JudgeBudgetExceeded(ValueError):
    """The pre-run estimate is over the budget the caller set."""


class JudgeRunConflict(ValueError):
    """A run of the same judge on the same study is already queued or running."""


def judge_version_hash(judge: Judge) -> str:
    """The judge's version: model, template text, verdict mode and verdict-changing params."""
    return judge_config(judge).version_hash


@transaction.atomic
def judge_register(
    *,
    team: Team | None,
    slug: str,
    name: str,
    model: str,
    base_url: str,
    template: str,
    api_key_env: str = "",
    custom_template: str = "",
    params: dict[str, Any] | None = None,
    verdict_mode: str = Judge.VerdictMode.GUIDED_CHOICE,
) -> Judge:
    """Create a judge of `team` with its version hash. Re-registering a slug with the same
    version is a no-op that returns the judge; a different version needs a new slug, so
    earlier verdicts always name the config that made them. Slugs are unique within a team:
    another team's judge of the same slug is not in the way. Raises JudgeConfigError naming the
    field."""
    fields = {
        "model": model,
        "base_url": base_url,
        "api_key_env": api_key_env,
        "template": template,
        "custom_template": custom_template,
        "params": params or {},
        "verdict_mode": verdict_mode,
    }
    version = judge_config_from_fields(**fields).version_hash
    existing = Judge.objects.filter(team=team, slug=slug).first()
    if existing is not None:
        if judge_version_hash(existing) != version:
            raise JudgeConfigError(
                f"slug: judge {slug!r} exists with a different configuration; register the "
                "changed judge under a new slug"
            )
        return existing
    return Judge.objects.create(team=team, slug=slug, name=name, version_hash=version, **fields)


@transaction.atomic
def judge_run_create(
    *,
    judge: Judge,
    study: Study,
    requested_by: Any = None,
    budget_usd: Decimal | float | str | None = None,
) -> Job:
    """Queue a judge run after estimating it. Refuses (JudgeBudgetExceeded) when the
    estimate exceeds `budget_usd`, and (JudgeRunConflict) while the same run is active."""
    config = _checked_config(judge, study)
    estimate = judge_run_estimate(judge=judge, study=study, config=config)
    budget = Decimal(str(budget_usd)) if budget_usd is not None else None
    if budget is not None and estimate.cost_usd > budget:
        raise JudgeBudgetExceeded(
            f"budget_usd: the run of judge {judge.slug!r} on study {study.slug!r} is "
            f"estimated at ${estimate.cost_usd}, over the budget of ${budget}: "
            f"{estimate.describe()}"
        )
    active = judge_runs_active(judge=judge, study=study).select_for_update()
    if active.exists():
        raise JudgeRunConflict(
            f"judge {judge.slug!r} is already running on study {study.slug!r} (job {active[0].pk})"
        )
    study.judges.add(judge)
    params = {
        "judge_id": judge.pk,
        "study_id": study.pk,
        "budget_usd": str(budget) if budget is not None else None,
        "estimate": _estimate_json(estimate),
    }
    return job_create(
        kind=Job.Kind.JUDGE, params=params, requested_by=requested_by, team=study.team
    )


def judge_job_run(job: Job) -> dict[str, Any]:
    """The "judge" job handler. Idempotent: a re-dispatched run resumes where it stopped."""
    judge = Judge.objects.get(pk=job.params["judge_id"])
    study = Study.objects.get(pk=job.params["study_id"])
    config = _checked_config(judge, study)
    price, _ = judge_price(model=config.model)
    units = work_units(config, judge, study)
    done = judged_ok_units(judge=judge, study=study)
    todo = [u for u in units if (u.item_id, u.order) not in done]
    writer = RunWriter(job=job, judge=judge, config=config, price=price, todo=todo)
    total = len(units)
    job_progress(job_id=job.pk, done=len(done), total=total, note="checking the cache")

    by_key: dict[str, list[WorkUnit]] = defaultdict(list)
    for unit in todo:
        by_key[unit.key].append(unit)
    hits = cached_keys(list(by_key))
    writer.write_cached([by_key[k] for k in hits])
    job_progress(
        job_id=job.pk, done=len(done) + writer.written, total=total,
        note=f"{len(hits)} cached, asking {len(by_key) - len(hits)} distinct requests",
    )  # fmt: skip

    requests = [
        JudgeRequest(key, group[0].prompt_text, group[0].est_tokens_in)
        for key, group in by_key.items()
        if key not in hits
    ]
    budget = _remaining_budget(job)
    outcomes: queue.SimpleQueue[RequestOutcome] = queue.SimpleQueue()
    future = judging_loop().submit(
        run_requests(
            config=config, requests=requests, deliver=outcomes.put, price=price, budget_usd=budget
        )
    )
    received = 0
    try:
        while received < len(requests):
            batch = _drain(outcomes, timeout=0.5, future=future)
            if not batch:
                if future.done() and outcomes.empty():
                    break  # every request was delivered (or the loop raised in _drain)
                continue
            received += len(batch)
            writer.write_outcomes([(o, by_key[o.key]) for o in batch])
            job_progress(
                job_id=job.pk, done=len(done) + writer.written, total=total,
                note=f"{received} of {len(requests)} requests answered",
            )  # fmt: skip
        future.result()
    except BaseException:  # cancelled, or the loop failed: stop asking, keep what is written
        future.cancel()
        raise
    return writer.summary(calls_planned=len(requests), cached=len(hits))


def _drain(
    outcomes: queue.SimpleQueue[RequestOutcome], *, timeout: float, future: Any
) -> list[RequestOutcome]:
    """Outcomes ready now (waiting up to `timeout` for the first), at most 500."""
    try:
        batch = [outcomes.get(timeout=timeout)]
    except queue.Empty:
        if future.done():
            future.result()  # surfaces an exception from the loop; else more may be queued
        return []
    while len(batch) < 500:
        try:
            batch.append(outcomes.get_nowait())
        except queue.Empty:
            break
    return batch


def _checked_config(judge: Judge, study: Study) -> JudgeConfig:
    """The judge's config for `study`, refused if the judge changed since registration."""
    config = judge_config(judge)
    if judge.version_hash and judge.version_hash != config.version_hash:
        raise JudgeConfigError(
            f"judge {judge.slug!r} was changed after it was registered (version "
            f"{judge.version_hash[:12]} vs {config.version_hash[:12]}); register a new judge"
        )
    if not judge.version_hash:
        Judge.objects.filter(pk=judge.pk).update(version_hash=config.version_hash)
        judge.version_hash = config.version_hash
    if judge.template == Judge.Template.INSTRUMENT:
        return judge_config(judge, study)
    return config


def _remaining_budget(job: Job) -> Decimal | None:
    if job.params.get("budget_usd") is None:
        return None
    spent = JudgeCall.objects.filter(job=job).aggregate(s=Sum("cost_usd"))["s"] or Decimal(0)
    return Decimal(job.params["budget_usd"]) - spent


def _estimate_json(estimate: RunEstimate) -> dict[str, Any]:
    return {
        "units": estimate.units,
        "already_judged": estimate.already_judged,
        "cached": estimate.cached,
        "calls": estimate.calls,
        "tokens_in": estimate.tokens_in,
        "tokens_out": estimate.tokens_out,
        "cost_usd": str(estimate.cost_usd),
        "priced": estimate.priced,
        "text": estimate.describe(),
    }
