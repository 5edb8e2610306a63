"""Reads for judge runs: the price of a judge, the pre-run estimate, and the per-item
combined pairwise verdict under an inconsistent-pair policy (what dashboards count)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from evalhub.jobs.models import Job
from evalhub.studies.models import Judge, Judgment, Study
from generation.judging.config import JudgeConfig, judge_config
from generation.judging.models import JudgePrice, VerdictCacheEntry
from generation.judging.planning import BASELINE_FIRST, TARGET_FIRST, WorkUnit, work_units
from generation.judging.runner import Price, estimate_tokens_out

INCONSISTENT_PAIR_POLICIES = ("tie", "drop", "keep_both")


def judge_runs_active(*, judge: Judge, study: Study) -> QuerySet[Job]:
    """The runs of `judge` on `study` that are queued or running (at most one, normally)."""
    return Job.objects.filter(
        kind=Job.Kind.JUDGE,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        params__judge_id=judge.pk,
        params__study_id=study.pk,
    )


@dataclass(frozen=True)
class RunEstimate:
    """What a run is expected to cost before it starts. `calls` counts distinct requests
    not yet answered or cached (retries and re-asks come on top); tokens are estimates."""

    units: int
    already_judged: int
    cached: int
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    priced: bool

    def describe(self) -> str:
        price = f"${self.cost_usd}" if self.priced else "$0 (no price row for this model)"
        return (
            f"{self.calls} calls (~{self.tokens_in} tokens in, ~{self.tokens_out} out) for "
            f"{self.units} verdicts; {self.already_judged} already judged, {self.cached} cached; "
            f"estimated {price}"
        )


@dataclass(frozen=True)
class ItemVerdict:
    """A pairwise item's verdicts to count under the policy: none (dropped, or nothing
    parsed), one, or two (keep_both on a flip). `consistent` is None unless both orders
    parsed."""

    item_id: int
    verdicts: tuple[str, ...]
    consistent: bool | None


def judge_price(*, model: str) -> tuple[Price, bool]:
    """The price for a judge model and whether the table had a row for it."""
    row = JudgePrice.objects.filter(model=model).first()
    if row is None:
        return Price(), False
    return Price(row.usd_per_mtok_in, row.usd_per_mtok_out), True


def judged_ok_units(*, judge: Judge, study: Study) -> set[tuple[int, str]]:
    rows = Judgment.objects.filter(
        judge=judge, item__study=study, parse_state=Judgment.ParseState.OK
    ).values_list("item_id", "order")
    return set(rows)


def cached_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        found.update(VerdictCacheEntry.objects.filter(key__in=chunk).values_list("key", flat=True))
    return found


def judge_run_estimate(
    *, judge: Judge, study: Study, config: JudgeConfig | None = None
) -> RunEstimate:
    """Estimate calls, tokens and USD for judging `study` now (resumes and cache hits free)."""
    config = config or judge_config(judge, study)
    units = work_units(config, judge, study)
    done = judged_ok_units(judge=judge, study=study)
    todo: list[WorkUnit] = [u for u in units if (u.item_id, u.order) not in done]
    cached = cached_keys(sorted({u.key for u in todo}))
    distinct: dict[str, WorkUnit] = {}
    for unit in todo:
        if unit.key not in cached:
            distinct.setdefault(unit.key, unit)
    tokens_in = sum(u.est_tokens_in for u in distinct.values())
    tokens_out = estimate_tokens_out(config) * len(distinct)
    price, priced = judge_price(model=config.model)
    return RunEstimate(
        units=len(units),
        already_judged=len(units) - len(todo),
        cached=sum(1 for u in todo if u.key in cached),
        calls=len(distinct),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=price.cost(tokens_in, tokens_out),
        priced=priced,
    )


def combine_orders(
    target_first: str | None, baseline_first: str | None, policy: str
) -> ItemVerdict:
    """Combine the two orders' normalised verdicts (item_id 0; callers set it)."""
    if policy not in INCONSISTENT_PAIR_POLICIES:
        raise ValueError(f"policy: {policy!r}, expected one of {INCONSISTENT_PAIR_POLICIES}")
    present = tuple(v for v in (target_first, baseline_first) if v)
    if len(present) < 2:
        return ItemVerdict(0, present, None)
    if target_first == baseline_first:
        return ItemVerdict(0, (target_first,), True)  # type: ignore[arg-type]
    if policy == "tie":
        return ItemVerdict(0, ("tie",), False)
    if policy == "drop":
        return ItemVerdict(0, (), False)
    return ItemVerdict(0, present, False)


def judge_item_verdicts(
    *, judge: Judge, study: Study, policy: str | None = None
) -> list[ItemVerdict]:
    """Per pairwise item, the verdicts to count for this judge under `policy` (default: the
    study's `inconsistent_pair_policy`). Read live from the parsed judgments."""
    policy = policy or study.inconsistent_pair_policy or "tie"
    by_item: dict[int, dict[str, str]] = defaultdict(dict)
    rows = Judgment.objects.filter(
        judge=judge,
        item__study=study,
        parse_state=Judgment.ParseState.OK,
        order__in=[TARGET_FIRST, BASELINE_FIRST],
    ).values_list("item_id", "order", "verdict")
    for item_id, order, verdict in rows:
        by_item[item_id][order] = verdict
    out = []
    for item_id in sorted(by_item):
        orders = by_item[item_id]
        combined = combine_orders(orders.get(TARGET_FIRST), orders.get(BASELINE_FIRST), policy)
        out.append(ItemVerdict(item_id, combined.verdicts, combined.consistent))
    return out


def judge_swap_consistency(*, judge: Judge, study: Study) -> tuple[int, int]:
    """(consistent pairs, pairs with both orders parsed) for this judge on this study."""
    verdicts = judge_item_verdicts(judge=judge, study=study, policy="keep_both")
    both = [v for v in verdicts if v.consistent is not None]
    return sum(1 for v in both if v.consistent), len(both)
