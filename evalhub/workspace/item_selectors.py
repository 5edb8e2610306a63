"""Reads behind the items list and an item's page: a study's items filtered as the
dashboards count them, each item's judgments counted by source, and an item's aggregate.
Paged like the other lists (data_selectors.page_of)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, Q, QuerySet

from evalhub.dashboards.selectors.crowd_fit import SCALES, verdicts_q
from evalhub.dashboards.selectors.frames import LLM_PREFIX, PAIRWISE_CODES, counted_judgments
from evalhub.studies.models import Item, Judgment, Study
from evalhub.workspace.data_selectors import SOURCES


def study_items(
    *,
    study: Study,
    q: str = "",
    baseline: str = "",
    verdict: str = "",
    judge_group: str = "",
    category: str = "",
    counted: str = "",
    judged_by: str = "",
    human_judgments: str = "",
    at_quota: str = "",
) -> QuerySet:
    """The study's items; `verdict` (with `judge_group`) keeps the items that have such a
    judgment, not excluded. counted="yes" keeps what results count: no gold items, and with
    `judge_group` and `verdict` the items that group's counted verdict is, as the results
    count it (an LLM group's two orders combined per item, see pairwise_items_counted);
    judged_by="human": the items with a human verdict the per-item aggregate counts;
    verdict="any" (counted, pairwise): the items any verdict of `judge_group` counts for;
    judge_group alone: the items it judged; human_judgments="k" (or "k+", at least k): the
    items with k counted human judgments, the progress chart's bars; at_quota="yes": the
    items the live monitor counts at quota."""
    items = (
        Item.objects.filter(study=study)
        .select_related("prompt", "baseline_output__model")
        .order_by("id")
    )
    if baseline:
        items = items.filter(baseline_output__model__slug=baseline)
    if category:
        items = items.filter(prompt__category=category)
    if counted == "yes":
        items = items.filter(is_gold=False)
        if judged_by == "human" and study.kind in SCALES:  # the kinds aggregated per item
            human = Judgment.objects.filter(verdicts_q(study)).values("item_id")
            items = items.filter(id__in=human)
    if counted == "yes" and verdict and judge_group and study.kind == Study.Kind.PAIRWISE:
        items = items.filter(id__in=pairwise_items_counted(
            study=study, judge_group=judge_group, verdict=verdict))  # fmt: skip
    elif verdict:
        found = Q(item__study=study, verdict=verdict, excluded=False)
        judged = Judgment.objects.filter(counted_judgments(found) if counted == "yes" else found)
        if judge_group:
            judged = judged.filter(judge_group=judge_group)
        items = items.filter(id__in=judged.values("item_id"))
    elif judge_group:
        items = items.filter(id__in=Judgment.objects.filter(
            item__study=study, judge_group=judge_group).values("item_id"))  # fmt: skip
    if at_quota == "yes":  # as the live monitor counts: the rating path's valid judgments
        items = items.filter(is_gold=False, judgment_count__gte=study.raters_per_item)
    if human_judgments.rstrip("+").isdigit():
        items = _with_human_judgments(items, study, human_judgments)
    if q:
        items = items.filter(Q(prompt__text__icontains=q) | Q(prompt__external_id__icontains=q))
    return items


def _with_human_judgments(items: QuerySet, study: Study, wanted: str) -> QuerySet:
    """The items with `wanted` ("k", or "k+": at least k) counted human judgments, as the
    progress figures count them (any judge group but an LLM's). Grouped over the study's
    judgments in one pass (the join counted_judgments makes for is_gold finds the study);
    the other filters stay on the items."""
    human = counted_judgments(Q(item__study=study)) & ~Q(judge_group__startswith=LLM_PREFIX)
    n = int(wanted.rstrip("+"))
    per_item = Judgment.objects.filter(human).values("item_id")
    having = per_item.annotate(n=Count("id")).order_by()
    if wanted.endswith("+"):
        if n == 0:
            return items
        return items.filter(id__in=having.filter(n__gte=n).values("item_id"))
    if n == 0:
        return items.exclude(id__in=per_item)
    return items.filter(id__in=having.filter(n=n).values("item_id"))


def pairwise_items_counted(*, study: Study, judge_group: str, verdict: str) -> QuerySet:
    """Ids of the items whose counted pairwise verdict by `judge_group` is `verdict`, the
    way the results count them (evalhub.dashboards.selectors.pairs): an LLM group's pair of
    one verdict per order counts once, an inconsistent pair by the study's policy (a tie,
    dropped, or both verdicts); any other judgment counts by itself. verdict="any": the
    items any verdict counts for (a row's total). Grouped per item in one query over the
    (item, judge_group) index."""
    code = 0 if verdict == "any" else PAIRWISE_CODES.get(verdict)
    judged = Judgment.objects.filter(
        counted_judgments(Q(item__study=study)), judge_group=judge_group,
        verdict__in=list(PAIRWISE_CODES), item__baseline_output__isnull=False,
    )  # fmt: skip
    if code is None:
        return judged.none().values("item_id")
    if not judge_group.startswith(LLM_PREFIX):
        return (judged if verdict == "any" else judged.filter(verdict=verdict)).values("item_id")
    first, second = Judgment.Order.TARGET_FIRST, Judgment.Order.BASELINE_FIRST
    per_item = judged.values("item_id").annotate(
        n_first=Count("id", filter=Q(order=first)),
        n_second=Count("id", filter=Q(order=second)),
        n_other=Count("id", filter=~Q(order__in=[first, second])),
        n_verdict=Count("id") if verdict == "any" else Count("id", filter=Q(verdict=verdict)),
        low=Min("verdict"),
        high=Max("verdict"),
    )
    paired = Q(n_first=1, n_second=1, n_other=0)
    same = Q(low=F("high"))
    policy = study.inconsistent_pair_policy or "tie"
    if verdict == "any":  # every pair counts but a split one the policy drops
        return per_item.filter(~paired | same if policy == "drop" else Q()).values("item_id")
    chosen = (~paired & Q(n_verdict__gte=1)) | (paired & same & Q(low=verdict))
    if policy == "tie" and verdict == "tie":
        chosen |= paired & ~same
    elif policy == "keep_both":
        chosen |= paired & ~same & Q(n_verdict__gte=1)
    return per_item.filter(chosen).values("item_id")


def item_judgment_counts(*, item_ids: list[int]) -> dict[int, dict[str, int]]:
    """{item id: {source: n}} of the judgments results count (counted_judgments), by
    source (SOURCES: rater, imported, llm), for one page of items: one grouped query over
    the (item, judge_group) index, so the list's time does not grow with the study."""
    rows = (
        Judgment.objects.filter(counted_judgments(Q(item_id__in=item_ids)))
        .values("item_id")
        .annotate(**{f"n_{name}": Count("id", filter=where) for name, where in SOURCES.items()})
        .order_by()
    )
    counts = {pk: dict.fromkeys(SOURCES, 0) for pk in item_ids}
    for row in rows:
        counts[row["item_id"]] = {name: row[f"n_{name}"] for name in SOURCES}
    return counts


@dataclass(frozen=True)
class ItemAggregate:
    """An item's judgments counted by verdict (excluded ones apart), per judge group:
    {group: [(verdict in words, verdict or "" for a score, n)]}."""

    by_group: dict[str, list[tuple[str, str, int]]]
    excluded: int

    @property
    def total(self) -> int:
        return sum(n for rows in self.by_group.values() for _, _, n in rows)


def item_aggregate(*, item: Item) -> ItemAggregate:
    """Verdicts in words, from the target's side ("lima-65b better", "tie")."""
    names = {"target": f"{item.target_output.model.slug} better", "tie": "tie"}
    if item.baseline_output is not None:
        names["baseline"] = f"{item.baseline_output.model.slug} better"
    by_group: dict[str, Counter] = {}
    excluded = 0
    for group, verdict, score, is_excluded in item.judgments.values_list(
        "judge_group", "verdict", "score", "excluded"
    ):
        if is_excluded:
            excluded += 1
            continue
        label = names.get(verdict, verdict) or (
            f"score {score:g}" if score is not None else "no verdict"
        )
        by_group.setdefault(group, Counter())[(label, verdict or "")] += 1
    return ItemAggregate(
        {
            g: [(label, v, n) for (label, v), n in sorted(c.items())]
            for g, c in sorted(by_group.items())
        },
        excluded,
    )
