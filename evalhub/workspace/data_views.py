"""The workspace's data pages: browse prompts, outputs (with provenance), items and
judgments, with filters, search and pagination. Every row links to its own page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from evalhub.accounts.decorators import researcher_required
from evalhub.audit.selectors import object_history
from evalhub.outputs.models import Output
from evalhub.outputs.selectors import MODEL_SCOPE, team_models
from evalhub.prompts.models import Prompt
from evalhub.prompts.selectors import PROMPT_SET_SCOPE, team_prompt_sets
from evalhub.studies.models import Item, Judgment, Study
from evalhub.studies.selectors import STUDY_SCOPE, team_judges, team_studies
from evalhub.workspace import data_selectors as data
from evalhub.workspace import item_selectors as items_data
from evalhub.workspace import judge_selectors
from evalhub.workspace.headline import counted_rows_url

SOURCE_NAMES = [("rater", "Raters here"), ("imported", "Imported (not LLM)"), ("llm", "LLM")]


def _filters(request: HttpRequest, *names: str) -> dict[str, str]:
    return {name: data.clean(request.GET.get(name)) for name in names}


def _context(request: HttpRequest, queryset, filters: dict[str, str], **extra) -> dict:
    page = data.page_of(queryset, request.GET.get("page"))
    # The page links keep the filters.
    kept = urlencode({k: v for k, v in filters.items() if v})
    return {"page": page, "filters": filters, "kept": kept, **extra}


@require_GET
@researcher_required(scope=PROMPT_SET_SCOPE)
def prompt_set_detail(request: HttpRequest, slug: str) -> HttpResponse:
    prompt_set = get_object_or_404(team_prompt_sets(team=request.team), slug=slug)
    filters = _filters(request, "q", "category")
    prompts = data.prompt_set_prompts(prompt_set=prompt_set, **filters)
    context = _context(
        request, prompts, filters, prompt_set=prompt_set, nav_section="prompt_sets",
        categories=data.prompt_set_categories(prompt_set=prompt_set),
        history=object_history(prompt_set, team=request.team, limit=20),
    )  # fmt: skip
    return render(request, "workspace/data/prompt_set.html", context)


@require_GET
@researcher_required(scope=PROMPT_SET_SCOPE)
def prompt_detail(request: HttpRequest, slug: str, prompt_id: int) -> HttpResponse:
    prompt = get_object_or_404(
        Prompt.objects.select_related("prompt_set"),
        prompt_set__team=request.team,
        prompt_set__slug=slug,
        pk=prompt_id,
    )
    context = {
        "prompt": prompt,
        "outputs": data.prompt_outputs(prompt=prompt),
        "items": Item.objects.filter(prompt=prompt, study__team=request.team)
        .select_related("study")
        .order_by("id")[:100],
        "nav_section": "prompt_sets",
    }
    return render(request, "workspace/data/prompt.html", context)


@require_GET
@researcher_required(scope=MODEL_SCOPE)
def model_outputs(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(team_models(team=request.team), slug=slug)
    filters = _filters(request, "q", "prompt_set")
    outputs = data.model_outputs(model=model, **filters)
    context = _context(
        request, outputs, filters, model=model, nav_section="models",
        prompt_sets=data.model_prompt_sets(model=model),
    )  # fmt: skip
    return render(request, "workspace/data/outputs.html", context)


@require_GET
@researcher_required(scope=MODEL_SCOPE)
def output_detail(request: HttpRequest, slug: str, output_id: int) -> HttpResponse:
    output = get_object_or_404(
        Output.objects.select_related("model", "prompt__prompt_set"), model__team=request.team,
        model__slug=slug, pk=output_id,
    )  # fmt: skip
    provenance = sorted((str(k), v) for k, v in (output.provenance or {}).items())
    context = {"output": output, "provenance": provenance, "nav_section": "models"}
    return render(request, "workspace/data/output.html", context)


def _study(request: HttpRequest, slug: str) -> Study:
    return get_object_or_404(
        team_studies(team=request.team).select_related("target_model", "prompt_set"), slug=slug
    )


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_items(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    filters = _filters(
        request, "q", "baseline", "verdict", "judge_group", "category", "counted", "judged_by",
        "human_judgments", "at_quota",
    )  # fmt: skip
    items = items_data.study_items(study=study, **filters)
    context = _context(
        request, items, filters, study=study, nav_section="studies",
        baselines=data.study_baseline_slugs(study=study),
        categories=data.prompt_set_categories(prompt_set=study.prompt_set),
        judge_groups=data.study_judge_groups(study=study), verdicts=Judgment.Verdict.choices,
        verdict_label=dict(Judgment.Verdict.choices).get(filters["verdict"], ""),
    )  # fmt: skip
    counts = items_data.item_judgment_counts(item_ids=[item.pk for item in context["page"]])
    context["rows"] = [(item, counts[item.pk]) for item in context["page"]]
    return render(request, "workspace/data/items.html", context)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def item_detail(request: HttpRequest, slug: str, item_id: int) -> HttpResponse:
    study = _study(request, slug)
    item = get_object_or_404(
        Item.objects.select_related(
            "prompt", "target_output__model", "baseline_output__model"
        ),
        study=study, pk=item_id,
    )  # fmt: skip
    judgments = data.study_judgments(study=study, item=item.pk)
    context = {
        "study": study,
        "item": item,
        "judgments": judgments,
        "aggregate": items_data.item_aggregate(item=item),
        "nav_section": "studies",
    }
    return render(request, "workspace/data/item.html", context)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_counted(request: HttpRequest, slug: str) -> HttpResponse:
    """The rows behind one count of a dashboard (baseline, judge group, verdict, category):
    a redirect to the list that yields exactly that count (see headline.counted_rows_url)."""
    study = _study(request, slug)
    keys = _filters(request, "baseline", "judge_group", "verdict", "category", "model")
    return redirect(counted_rows_url(study=study, **keys))


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_judgments(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    filters = _filters(
        request, "judge_group", "verdict", "baseline", "excluded", "rater", "rater_id",
        "category", "counted", "kind", "answered", "judge", "parse", "source", "choice", "item",
        "model",
    )  # fmt: skip
    filters["item"] = filters["item"] if filters["item"].isdigit() else ""
    judgments = data.study_judgments(study=study, **filters)
    context = _context(
        request, judgments, filters, study=study, nav_section="studies", sources=SOURCE_NAMES,
        baselines=data.study_baseline_slugs(study=study),
        categories=data.prompt_set_categories(prompt_set=study.prompt_set),
        judge_groups=data.study_judge_groups(study=study), verdicts=Judgment.Verdict.choices,
    )  # fmt: skip
    return render(request, "workspace/data/judgments.html", context)


@require_GET
@researcher_required
def judge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A judge's configuration, the studies it judged, and its runs; each count opens the
    judgments it counts."""
    judge = get_object_or_404(team_judges(team=request.team), slug=slug)
    context = {
        "judge": judge,
        "studies": judge_selectors.judge_studies(judge=judge, team=request.team),
        "runs": judge_selectors.judge_runs(judge=judge, team=request.team),
        "params": sorted((judge.params or {}).items()),
        "nav_section": "judges",
    }
    return render(request, "workspace/data/judge.html", context)
