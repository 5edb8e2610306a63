"""Reads behind the workspace's data pages: a prompt set's prompts, a model's outputs, a
study's items and its judgments, each filtered, searched and paginated in the database.

A page is PAGE_SIZE rows by id (an index), counted with one COUNT(*); search is a plain
`icontains`, which PostgreSQL answers by a scan of the filtered rows: at 10,000 prompts or
100,000 judgments that stays well under the 300 ms bench/dashboard_latency.py checks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Max, Min, Q, QuerySet

from evalhub.dashboards.selectors.crowd_fit import SCALES, verdicts_q
from evalhub.dashboards.selectors.frames import (
    EXCLUDED_PARSE_STATES,
    LLM_PREFIX,
    PAIRWISE_CODES,
    counted_judgments,
)
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Item, Judgment, Study

PAGE_SIZE = 50

# Where a judgment came from, as the items list counts them: the dashboard's "human" groups
# are given by raters here or imported; LLM groups ("llm:...") by a judge run or imported.
_LLM = Q(judge_group__startswith=LLM_PREFIX)
SOURCES = {
    "rater": ~_LLM & Q(rater__isnull=False),
    "imported": ~_LLM & Q(rater__isnull=True),
    "llm": _LLM,
}


def _page(queryset: QuerySet, number: Any) -> Page:
    """The page's ids first (no joins for the skipped rows), then its 50 rows with their
    joins: a deep page of 100,000 judgments took 510 ms as one query, this way ~2x less."""
    page = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    ids = list(page.object_list)
    page.object_list = list(queryset.filter(pk__in=ids)) if ids else []
    return page


def _text(value: Any) -> str:
    return str(value or "").strip()[:200]


# --- prompts -----------------------------------------------------------------------------


def prompt_set_prompts(*, prompt_set: PromptSet, q: str = "", category: str = "") -> QuerySet:
    prompts = Prompt.objects.filter(prompt_set=prompt_set).order_by("position", "id")
    if category:
        prompts = prompts.filter(category=category)
    if q:
        prompts = prompts.filter(Q(text__icontains=q) | Q(external_id__icontains=q))
    return prompts.only("id", "external_id", "text", "category", "position", "prompt_set_id")


def prompt_set_categories(*, prompt_set: PromptSet) -> list[str]:
    return list(
        Prompt.objects.filter(prompt_set=prompt_set)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def prompt_outputs(*, prompt: Prompt) -> QuerySet:
    return Output.objects.filter(prompt=prompt).select_related("model").order_by("model__slug")


# --- outputs -----------------------------------------------------------------------------


def model_outputs(*, model: ModelEntry, q: str = "", prompt_set: str = "") -> QuerySet:
    outputs = (
        Output.objects.filter(model=model)
        .select_related("prompt__prompt_set")
        .order_by("id")
        .defer("html", "turns")
    )
    if prompt_set:
        outputs = outputs.filter(prompt__prompt_set__slug=prompt_set)
    if q:
        outputs = outputs.filter(Q(text__icontains=q) | Q(prompt__external_id__icontains=q))
    return outputs


def model_prompt_sets(*, model: ModelEntry) -> list[str]:
    return list(
        PromptSet.objects.filter(prompts__outputs__model=model)
        .order_by("slug")
        .values_list("slug", flat=True)
        .distinct()
    )


# --- items -------------------------------------------------------------------------------


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
) -> QuerySet:
    """The study's items; `verdict` (with `judge_group`) keeps the items that have such a
    judgment, not excluded. counted="yes" keeps what results count: no gold items, and with
    `judge_group` and `verdict` the items that group's counted verdict is, as the results
    count it (an LLM group's two orders combined per item, see pairwise_items_counted);
    judged_by="human": the items with a human verdict the per-item aggregate counts."""
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
    if q:
        items = items.filter(Q(prompt__text__icontains=q) | Q(prompt__external_id__icontains=q))
    return items


def pairwise_items_counted(*, study: Study, judge_group: str, verdict: str) -> QuerySet:
    """Ids of the items whose counted pairwise verdict by `judge_group` is `verdict`, the
    way the results count them (evalhub.dashboards.selectors.pairs): an LLM group's pair of
    one verdict per order counts once, an inconsistent pair by the study's policy (a tie,
    dropped, or both verdicts); any other judgment counts by itself. Grouped per item in
    one query over the (item, judge_group) index."""
    code = PAIRWISE_CODES.get(verdict)
    judged = Judgment.objects.filter(
        counted_judgments(Q(item__study=study)), judge_group=judge_group,
        verdict__in=list(PAIRWISE_CODES), item__baseline_output__isnull=False,
    )  # fmt: skip
    if code is None:
        return judged.none().values("item_id")
    if not judge_group.startswith(LLM_PREFIX):
        return judged.filter(verdict=verdict).values("item_id")
    first, second = Judgment.Order.TARGET_FIRST, Judgment.Order.BASELINE_FIRST
    per_item = judged.values("item_id").annotate(
        n_first=Count("id", filter=Q(order=first)),
        n_second=Count("id", filter=Q(order=second)),
        n_other=Count("id", filter=~Q(order__in=[first, second])),
        n_verdict=Count("id", filter=Q(verdict=verdict)),
        low=Min("verdict"),
        high=Max("verdict"),
    )
    paired = Q(n_first=1, n_second=1, n_other=0)
    same = Q(low=F("high"))
    chosen = (~paired & Q(n_verdict__gte=1)) | (paired & same & Q(low=verdict))
    policy = study.inconsistent_pair_policy or "tie"
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


# --- judgments ---------------------------------------------------------------------------


def study_judgments(
    *,
    study: Study,
    judge_group: str = "",
    verdict: str = "",
    baseline: str = "",
    excluded: str = "",
    rater: str = "",
    rater_id: str = "",
    category: str = "",
    counted: str = "",
    kind: str = "",
    answered: str = "",
    item: int | str | None = None,
    judge: str = "",
    parse: str = "",
    source: str = "",
    choice: str = "",
) -> QuerySet:
    """The study's judgments, filtered. counted="yes": only those results count (no gold
    items, attention checks, failed parses or excluded raters' judgments); kind: "human"
    or "llm" judge groups; rater_id: one rater's (the raters page's number); answered="yes":
    only answers in the study's instrument (what its choice shares count); choice: one
    answer's key; judge: one LLM judge's (slug); parse="failed": failed parses and calls;
    source: "rater" (given by a rater here), "imported" (no rater, no LLM group) or "llm"."""
    found = Q(item__study=study)
    judgments = (
        Judgment.objects.filter(counted_judgments(found) if counted == "yes" else found)
        .select_related("rater", "item__prompt", "item__baseline_output__model")
        .only(
            "id",
            "judge_group",
            "verdict",
            "score",
            "time_on_task_ms",
            "excluded",
            "created_at",
            "too_fast",
            "order",
            "item_id",
            "rater__external_id_hash",
            "rater__group",
            "item__prompt__external_id",
            "item__baseline_output__model__slug",
        )
        .order_by("id")
    )
    if judge_group:
        judgments = judgments.filter(judge_group=judge_group)
    if verdict:
        judgments = judgments.filter(verdict=verdict)
    if baseline:
        judgments = judgments.filter(item__baseline_output__model__slug=baseline)
    if excluded in ("yes", "no"):
        judgments = judgments.filter(excluded=excluded == "yes")
    if rater:
        judgments = judgments.filter(rater__external_id_hash__startswith=rater)
    if rater_id.isdigit():
        judgments = judgments.filter(rater_id=int(rater_id))
    if category:
        judgments = judgments.filter(item__prompt__category=category)
    if answered == "yes" and study.instrument is not None:
        judgments = judgments.filter(raw_choice__in=list(study.instrument.definition.by_answer))
    if kind in ("human", "llm"):
        llm = Q(judge_group__startswith=LLM_PREFIX)
        judgments = judgments.filter(llm if kind == "llm" else ~llm)
    if choice:
        judgments = judgments.filter(raw_choice=choice)
    if source in SOURCES:
        judgments = judgments.filter(SOURCES[source])
    if judge:
        judgments = judgments.filter(judge__slug=judge)
    if parse == "failed":
        judgments = judgments.filter(parse_state__in=EXCLUDED_PARSE_STATES)
    if item and str(item).isdigit():
        judgments = judgments.filter(item_id=int(item))
    return judgments


def study_judge_groups(*, study: Study) -> list[str]:
    return list(
        Judgment.objects.filter(item__study=study)
        .order_by("judge_group")
        .values_list("judge_group", flat=True)
        .distinct()
    )


def study_baseline_slugs(*, study: Study) -> list[str]:
    return list(study.baselines.order_by("slug").values_list("slug", flat=True))


def page_of(queryset: QuerySet, number: Any) -> Page:
    """The `number`th page (1-based; out of range gives the last) of PAGE_SIZE rows."""
    return _page(queryset, number)


def clean(value: Any) -> str:
    """A query-string filter value, trimmed and bounded."""
    return _text(value)
