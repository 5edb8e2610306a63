"""Training pages for researchers: datasets, recipes, runs with live curves, checkpoint
selection. Views validate, call one service and render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from evalhub.accounts.decorators import researcher_required
from evalhub.importing import InputError, parse_rows
from training import selectors, services
from training.forms import (
    DatasetImportForm,
    RecipeForm,
    RunForm,
    SelectionForm,
    StudyFromCheckpointForm,
)
from training.models import Checkpoint, TrainingRun
from training.recipes import RecipeSettings
from training.selectors import DATASET_SCOPE, RUN_SCOPE, team_datasets, team_runs
from training.services.selection import PAIRWISE_SCALE


@researcher_required
def index(request: HttpRequest) -> HttpResponse:
    services.recipe_presets_ensure()
    return render(
        request,
        "training/index.html",
        {
            "datasets": selectors.datasets_list(team=request.team),
            "recipes": selectors.recipes_list(),
            "runs": selectors.runs_list(team=request.team),
        },
    )


@researcher_required
def dataset_import_view(request: HttpRequest) -> HttpResponse:
    form = DatasetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = parse_rows(upload.read().decode("utf-8"))
            dataset = services.dataset_import(
                team=request.team,
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                rows=rows,
                source_file=upload.name,
                tokenizer_path=form.cleaned_data["tokenizer"],
            )
        except (InputError, UnicodeDecodeError, OSError, ValueError) as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("training:dataset_detail", slug=dataset.slug)
    return render(request, "training/form.html", {"form": form, "title": "Import a dataset"})


@researcher_required(scope=DATASET_SCOPE)
def dataset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = get_object_or_404(team_datasets(team=request.team), slug=slug)
    return render(
        request,
        "training/dataset_detail.html",
        {
            "dataset": dataset,
            "count": dataset.examples.count(),
            "sources": selectors.dataset_sources(dataset=dataset),
        },
    )


@researcher_required
def recipe_new(request: HttpRequest) -> HttpResponse:
    form = RecipeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        base = form.cleaned_data["based_on"]
        settings = {**(base.settings if base else {}), **form.cleaned_data["settings"]}
        try:
            services.recipe_create(
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                settings=settings,
                description=form.cleaned_data["description"],
            )
        except InputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("training:index")
    return render(
        request,
        "training/form.html",
        {"form": form, "title": "New recipe", "defaults": RecipeSettings().to_dict()},
    )


@researcher_required
def run_new(request: HttpRequest) -> HttpResponse:
    services.recipe_presets_ensure()
    form = RunForm(request.POST or None, team=request.team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = services.training_run_create(
                team=request.team,
                dataset=data["dataset"],
                base_model=data["base_model"],
                recipe=data["recipe"],
                name=data["name"],
                slug=data["slug"],
                requested_by=request.user,
            )
        except InputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("training:run_detail", slug=run.slug)
    return render(request, "training/form.html", {"form": form, "title": "New training run"})


@researcher_required(scope=RUN_SCOPE)
def run_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        run = selectors.run_get(team=request.team, slug=slug)
    except TrainingRun.DoesNotExist:
        raise Http404(f"no run {slug}") from None
    checkpoints = selectors.run_checkpoints(run=run)
    # The scale of the latest selection's scores: a Likert mean or the pairwise chain.
    scale = next((c.score_scale for c in checkpoints if c.score_scale), "")
    return render(
        request,
        "training/run_detail.html",
        {
            "run": run,
            "checkpoints": checkpoints,
            "pairwise_scores": scale == PAIRWISE_SCALE,
            "selection_form": SelectionForm(),
            "study_form": StudyFromCheckpointForm(),
            "settings_rows": sorted(run.recipe_settings.items()),
            "panel_state": selectors.run_panel_state(run=run, checkpoints=checkpoints),
        },
    )


@researcher_required(scope=RUN_SCOPE)
def run_live(request: HttpRequest, slug: str) -> JsonResponse:
    """New curve points after ?after=<step>, and the jobs' states, for the live page."""
    runs = team_runs(team=request.team).select_related("job", "selection_job")
    run = get_object_or_404(runs, slug=slug)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    return JsonResponse(
        {
            "curves": selectors.run_curves(run=run, after_step=after),
            **selectors.run_status(run=run),
        }
    )


@researcher_required(scope=RUN_SCOPE)
@require_POST
def run_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    run = get_object_or_404(team_runs(team=request.team), slug=slug)
    services.training_run_cancel(run=run)
    messages.info(request, "Asked the run to stop; it stops at its next step.")
    return redirect("training:run_detail", slug=slug)


@researcher_required(scope=RUN_SCOPE)
@require_POST
def run_select(request: HttpRequest, slug: str) -> HttpResponse:
    run = get_object_or_404(team_runs(team=request.team), slug=slug)
    form = SelectionForm(request.POST)
    if form.is_valid():
        try:
            services.checkpoint_selection_start(
                run=run,
                prompt_set=form.cleaned_data["prompt_set"],
                judge=form.cleaned_data["judge"],
                requested_by=request.user,
            )
        except InputError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("training:run_detail", slug=slug)


@researcher_required(scope=RUN_SCOPE)
@require_POST
def run_choose(request: HttpRequest, slug: str) -> HttpResponse:
    """Accept the proposal (no checkpoint in the form) or pick another checkpoint."""
    runs = team_runs(team=request.team).select_related("proposed_checkpoint")
    run = get_object_or_404(runs, slug=slug)
    try:
        if request.POST.get("checkpoint"):
            checkpoint = get_object_or_404(Checkpoint, pk=request.POST["checkpoint"], run=run)
            services.checkpoint_choose(run=run, checkpoint=checkpoint, by=request.user)
        else:
            services.checkpoint_proposal_accept(run=run, by=request.user)
    except InputError as exc:
        messages.error(request, str(exc))
    return redirect("training:run_detail", slug=slug)


@researcher_required(scope=RUN_SCOPE)
@require_POST
def run_study(request: HttpRequest, slug: str) -> HttpResponse:
    runs = team_runs(team=request.team).select_related("chosen_checkpoint")
    run = get_object_or_404(runs, slug=slug)
    form = StudyFromCheckpointForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            study = services.chosen_checkpoint_study_create(
                team=request.team,
                run=run,
                slug=data["slug"],
                name=data["name"],
                prompt_set=data["prompt_set"],
                kind=data["kind"],
                baselines=list(data["baselines"]),
                by=request.user,
            )
        except InputError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, f"Draft study {study.slug} created with the chosen checkpoint.")
    else:
        messages.error(request, form.errors.as_text())
    return redirect("training:run_detail", slug=slug)
