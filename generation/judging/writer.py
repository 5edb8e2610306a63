"""Turning a judge run's outcomes into rows: judgments (failed ones updated in place), one
JudgeCall per HTTP attempt, cache entries for parsed answers only, and swap-consistency."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction

from evalhub.jobs.models import Job
from evalhub.studies.models import Judge, Judgment
from evalhub.studies.signals import judgments_bulk_written_send
from generation.judging.config import JudgeConfig
from generation.judging.models import JudgeCall, PairConsistency, VerdictCacheEntry
from generation.judging.planning import BASELINE_FIRST, TARGET_FIRST, WorkUnit, judge_group_name
from generation.judging.runner import OK, Price, RequestOutcome
from generation.judging.verdicts import combine_samples, target_preference


class RunWriter:
    """Turns outcomes into rows, one transaction per batch, in the job's own thread."""

    def __init__(
        self, *, job: Job, judge: Judge, config: JudgeConfig, price: Price, todo: list[WorkUnit]
    ) -> None:
        self.job, self.judge, self.config, self.price = job, judge, config, price
        self.group = judge_group_name(judge)
        self.pairwise = config.instrument.scale == "pairwise"
        # Failed verdicts from earlier runs are updated in place: one row per (item, order).
        self.existing = dict(
            (((item_id, order), pk))
            for pk, item_id, order in Judgment.objects.filter(
                judge=judge, item_id__in={u.item_id for u in todo}
            ).values_list("pk", "item_id", "order")
        )
        self.written = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.tokens_in = self.tokens_out = 0
        self.cost = Decimal(0)

    @transaction.atomic
    def write_cached(self, groups: list[list[WorkUnit]]) -> None:
        entries = {
            e.key: e for e in VerdictCacheEntry.objects.filter(key__in=[g[0].key for g in groups])
        }
        rows = []
        for group in groups:
            entry = entries[group[0].key]
            for unit in group:
                rows.append(
                    self._judgment(
                        unit,
                        raw_choice=entry.raw_choice,
                        verdict=entry.verdict,
                        score=entry.score,
                        preference=entry.preference,
                        raw_response=entry.raw_response,
                        parse_state=OK,
                    )
                )
                self.counts["cached"] += 1
        self._save(rows)

    @transaction.atomic
    def write_outcomes(self, pairs: list[tuple[RequestOutcome, list[WorkUnit]]]) -> None:
        rows, calls, cache = [], [], []
        for outcome, group in pairs:
            first = group[0]
            cost = Decimal(0)
            for attempt_no, attempt in enumerate(outcome.attempts, start=1):
                call_cost = self.price.cost(attempt.tokens_in, attempt.tokens_out)
                cost += call_cost
                calls.append(
                    JudgeCall(
                        judge=self.judge,
                        item_id=first.item_id,
                        order=first.order,
                        job=self.job,
                        cache_key=outcome.key,
                        attempt=attempt_no,
                        outcome=attempt.outcome,
                        http_status=attempt.http_status,
                        error=attempt.error,
                        latency_ms=attempt.latency_ms,
                        tokens_in=attempt.tokens_in,
                        tokens_out=attempt.tokens_out,
                        cost_usd=call_cost,
                    )
                )
            self.tokens_in += outcome.tokens_in
            self.tokens_out += outcome.tokens_out
            self.cost += cost
            raw_choice = verdict = ""
            score = preference = None
            for index, unit in enumerate(group):
                if outcome.state == OK:
                    raw_choice, verdict, score = combine_samples(
                        self.config.instrument, unit.order, outcome.answers
                    )
                    preference = target_preference(outcome.answers, unit.order)
                spent = index == 0  # the call is paid once; identical units share it
                rows.append(
                    self._judgment(
                        unit,
                        raw_choice=raw_choice,
                        verdict=verdict,
                        score=score,
                        preference=preference,
                        raw_response=outcome.raw_response or outcome.error,
                        parse_state=outcome.state,
                        tokens_in=outcome.tokens_in if spent else 0,
                        tokens_out=outcome.tokens_out if spent else 0,
                        cost_usd=cost if spent else Decimal(0),
                    )
                )
                self.counts[outcome.state] += 1
            if outcome.state == OK:
                cache.append(
                    VerdictCacheEntry(
                        key=outcome.key,
                        judge_version=self.config.version_hash,
                        raw_choice=raw_choice,
                        verdict=verdict,
                        score=score,
                        preference=preference,
                        raw_response=outcome.raw_response,
                        tokens_in=outcome.tokens_in,
                        tokens_out=outcome.tokens_out,
                    )
                )
        JudgeCall.objects.bulk_create(calls)
        VerdictCacheEntry.objects.bulk_create(cache, ignore_conflicts=True)
        self._save(rows)

    def _judgment(self, unit: WorkUnit, **values: Any) -> Judgment:
        values.setdefault("tokens_in", 0)
        values.setdefault("tokens_out", 0)
        values.setdefault("cost_usd", Decimal(0))
        return Judgment(
            pk=self.existing.get((unit.item_id, unit.order)),
            item_id=unit.item_id,
            judge=self.judge,
            judge_group=self.group,
            order=unit.order,
            **values,
        )

    def _save(self, rows: list[Judgment]) -> None:
        fields = ["raw_choice", "verdict", "score", "preference", "raw_response", "parse_state",
                  "tokens_in", "tokens_out", "cost_usd"]  # fmt: skip
        updates = [r for r in rows if r.pk is not None]
        creates = [r for r in rows if r.pk is None]
        Judgment.objects.bulk_update(updates, fields, batch_size=500)
        # ignore_conflicts: a stale duplicate delivery of this job must not write twice.
        Judgment.objects.bulk_create(creates, ignore_conflicts=True, batch_size=500)
        if rows:
            judgments_bulk_written_send(self.job.params["study_id"])
        self.written += sum(1 for r in rows if r.parse_state == OK)
        if self.pairwise:
            self._record_consistency({r.item_id for r in rows if r.parse_state == OK})

    def _record_consistency(self, item_ids: set[int]) -> None:
        if not item_ids:
            return
        orders: dict[int, dict[str, str]] = defaultdict(dict)
        for item_id, order, verdict in Judgment.objects.filter(
            judge=self.judge, item_id__in=item_ids, parse_state=OK
        ).values_list("item_id", "order", "verdict"):
            orders[item_id][order] = verdict
        records = [
            PairConsistency(
                judge=self.judge,
                item_id=item_id,
                target_first=o[TARGET_FIRST],
                baseline_first=o[BASELINE_FIRST],
                consistent=o[TARGET_FIRST] == o[BASELINE_FIRST],
            )
            for item_id, o in orders.items()
            if TARGET_FIRST in o and BASELINE_FIRST in o
        ]
        PairConsistency.objects.bulk_create(
            records,
            update_conflicts=True,
            unique_fields=["judge", "item"],
            update_fields=["target_first", "baseline_first", "consistent", "updated_at"],
        )

    def summary(self, *, calls_planned: int, cached: int) -> dict[str, Any]:
        return {
            "verdicts_ok": self.counts[OK],
            "verdicts_cached": self.counts["cached"],
            "parse_failed": self.counts["failed"],
            "call_failed": self.counts["error"],
            "distinct_requests": calls_planned,
            "cached_requests": cached,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": str(self.cost),
        }
