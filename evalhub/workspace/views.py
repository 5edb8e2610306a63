"""Researcher workspace pages: thin views over services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from evalhub.accounts.decorators import researcher_required
from evalhub.audit.selectors import object_history
from evalhub.dashboards.selectors import studies_overview, study_results
from evalhub.importing import InputError
from evalhub.instruments.services import instrument_for_study_kind
from evalhub.live.creation import live_study_launch
from evalhub.live.errors import LiveInputError
from evalhub.live.monitoring import is_live, live_monitor
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import models_with_output_counts, team_models
from evalhub.prompts.selectors import prompt_sets_with_counts
from evalhub.rating.views import instrument_context
from evalhub.studies import services as study_services
from evalhub.studies.models import Judgment, Study
from evalhub.studies.selectors import STUDY_SCOPE, study_plan, team_judges, team_studies
from evalhub.workspace import selectors, services
from evalhub.workspace.data_selectors import model_prompt_sets
from evalhub.workspace.forms import JudgeForm, JudgeRunForm, StudyForm, UploadForm
from evalhub.workspace.headline import study_headline
from evalhub.workspace.preview import study_preview_count, study_preview_page

TRANSITIONS = {
    "launch": ("Launch", study_services.study_launch, Study.Status.DRAFT),
    "close": ("Close", study_services.study_close, Study.Status.LAUNCHED),
    "reopen": ("Reopen", study_services.study_reopen, Study.Status.CLOSED),
}


def _study(request: HttpRequest, slug: str) -> Study:
    return get_object_or_404(
        team_studies(team=request.team).select_related("prompt_set", "target_model", "instrument"),
        slug=slug,
    )


# --- lists ------------------------------------------------------------------------------


@require_GET
@researcher_required
def studies(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workspace/studies.html",
        {"studies": studies_overview(team=request.team), "nav_section": "studies"},
    )


@require_GET
@researcher_required
def prompt_sets(request: HttpRequest) -> HttpResponse:
    context = {
        "prompt_sets": prompt_sets_with_counts(team=request.team).order_by("slug"),
        "nav_section": "prompt_sets",
    }
    return render(request, "workspace/prompt_sets.html", context)


@require_GET
@researcher_required
def models(request: HttpRequest) -> HttpResponse:
    context = {
        "models": models_with_output_counts(team=request.team).order_by("slug"),
        "nav_section": "models",
    }
    return render(request, "workspace/models.html", context)


@require_http_methods(["GET", "POST"])
@researcher_required
def judges(request: HttpRequest) -> HttpResponse:
    """The judges, and the form that registers one (its API key stays in the environment)."""
    from generation.judging.config import JudgeConfigError
    from generation.judging.services import judge_register

    form = JudgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            judge = judge_register(team=request.team, **form.cleaned_data)
        except JudgeConfigError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Judge {judge.slug} registered.")
            after = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(after, allowed_hosts={request.get_host()}):
                after = "workspace:judges"
            return redirect(after or "workspace:judges")
    judges = team_judges(team=request.team).order_by("slug")
    context = {"judges": judges, "form": form, "nav_section": "judges"}
    return render(request, "workspace/judges.html", context)


# --- uploads ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@researcher_required
def upload(request: HttpRequest) -> HttpResponse:
    """A file, then its preview: format, rows, models, unmatched prompts and problems.
    Nothing is written to the database until the preview is confirmed."""
    form = UploadForm(request.POST or None, request.FILES or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        params = {k: form.cleaned_data[k] for k in ("prompt_set", "name", "model")}
        params["what"] = form.cleaned_data["kind"]
        token, path = services.upload_store(file=form.cleaned_data["file"], params=params)
        preview = selectors.upload_preview(
            team=request.team,
            path=path,
            params={**params, "filename": form.cleaned_data["file"].name},
        )
        if preview["problems"]:
            services.upload_discard(token=token)
        context = {"preview": preview, "token": token, "nav_section": "prompt_sets"}
        return render(request, "workspace/upload_preview.html", context, status=200)
    return render(request, "workspace/upload.html", {"form": form, "nav_section": "prompt_sets"})


@require_POST
@researcher_required
def upload_import(request: HttpRequest, token: str) -> HttpResponse:
    try:
        job = services.upload_import(team=request.team, token=token, requested_by=request.user)
    except services.UploadGone as exc:
        messages.error(request, str(exc))
        return redirect("workspace:upload")
    return redirect("jobs:detail", job_id=job.pk)


# --- new study --------------------------------------------------------------------------


def _plan(form: StudyForm) -> dict[str, Any]:
    d = form.cleaned_data
    return study_plan(
        prompt_set=d["prompt_set"],
        kind=d["kind"],
        target_model=d["target_model"],
        baselines=list(d.get("baselines") or []) if d["kind"] == Study.Kind.PAIRWISE else [],
        raters_per_item=d["raters_per_item"],
        attention_check_rate=d["attention_check_rate"],
        session_quota=d["session_quota"],
        interval_width=d.get("interval_width") or 0.1,
        instrument=d.get("instrument"),
    )


@require_http_methods(["GET", "POST"])
@researcher_required
def study_new(request: HttpRequest) -> HttpResponse:
    """The new-study form; its plan (coverage, items, judgments, planner) updates live and
    is shown again with any error. Saving calls the service the API calls."""
    form = StudyForm(request.POST or None, initial=request.GET.dict(), team=request.team)
    plan = None
    if request.method == "POST" and form.is_valid():
        plan = _plan(form)
        if not plan["covered"]:
            form.add_error(
                "target_model",
                f"no prompt of {form.cleaned_data['prompt_set'].slug} has an output from every "
                "chosen model; upload or generate outputs first",
            )
        else:
            try:
                study = study_services.study_create(
                    team=request.team, **form.service_fields(), created_by=request.user
                )
            except InputError as exc:
                for problem in exc.problems:
                    form.add_error(problem.field or None, problem.message)
            else:
                return redirect("workspace:study", slug=study.slug)
    context = {"form": form, "plan": plan, "nav_section": "studies"}
    return render(request, "workspace/study_new.html", context)


@require_GET
@researcher_required
def study_new_plan(request: HttpRequest) -> JsonResponse:
    """The plan of the form as it stands, for the live preview (no slug or name needed)."""
    data = {"slug": "x", "name": "x", **request.GET.dict()}
    form = StudyForm({**data, "baselines": request.GET.getlist("baselines")}, team=request.team)
    if not form.is_valid():
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        return JsonResponse({"errors": errors}, status=400)
    return JsonResponse(_plan(form))


# --- one study --------------------------------------------------------------------------


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    base = request.build_absolute_uri("/").rstrip("/")
    context = {
        "study": study,
        "left_out": study.config.get("prompts_left_out", []),
        "monitor": selectors.study_monitor(study=study),
        "urls": selectors.prolific_urls(study=study, base_url=base),
        "judge_form": JudgeRunForm(team=request.team),
        "judge_runs": selectors.judge_runs_of_study(study=study),
        "headline": study_headline(study=study) if study.status != Study.Status.DRAFT else [],
        "judgment_count": Judgment.objects.filter(item__study=study).count(),
        "live_study": is_live(study),
        "live": live_monitor(study=study) if is_live(study) else None,
        "staff_url": selectors.live_staff_url(study=study, base_url=base),
        "history": object_history(study, team=request.team, limit=20),
        "nav_section": "studies",
    }
    return render(request, "workspace/study.html", context)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_monitor(request: HttpRequest, slug: str) -> JsonResponse:
    study = get_object_or_404(
        team_studies(team=request.team).only("id", "status", "raters_per_item"), slug=slug
    )
    response = JsonResponse(selectors.study_monitor_cached(study=study))
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def study_transition(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """GET asks for confirmation; POST launches, closes or reopens."""
    if action not in TRANSITIONS:
        raise Http404(f"no action {action!r}")
    label, service, from_status = TRANSITIONS[action]
    study = _study(request, slug)
    if action == "launch" and is_live(study):
        service = live_study_launch  # a live study has no items to make
    if request.method == "POST":
        try:
            service(study=study, by=request.user)
        except (study_services.StudyStateError, LiveInputError) as exc:
            messages.error(request, str(exc))
        except InputError as exc:
            messages.error(request, f"{label} refused: {exc}")
        else:
            messages.success(request, f"Study {study.slug}: {action} done.")
        return redirect("workspace:study", slug=study.slug)
    context = {
        "study": study,
        "action": action,
        "label": label,
        "allowed": study.status == from_status,
        "nav_section": "studies",
    }
    return render(request, "workspace/study_confirm.html", context)


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def study_preview(request: HttpRequest, slug: str, step: str = "consent") -> HttpResponse:
    """The study exactly as a rater sees it: consent, a few items of each kind, the done
    page. Posting an answer only moves on: nothing is reserved, recorded or counted."""
    study = _study(request, slug)
    if study.instrument is None:  # a draft that names none asks its kind's LIMA preset
        study.instrument = instrument_for_study_kind(study.kind)
    base = {"preview": True, "preview_exit": f"/studies/{study.slug}/"}
    if step == "go":  # the jump box: ?n=<item number>
        n = request.GET.get("n", "")
        return redirect("workspace:study_preview_step", slug=slug, step=n if n.isdigit() else "1")
    if step == "consent":
        if request.method == "POST":
            return redirect("workspace:study_preview_step", slug=slug, step="1")
        context = {
            **base,
            "kind": study.kind,
            "quota": study.session_quota,
            **instrument_context(study.instrument.definition),
            "minutes": study.reservation_seconds // 60,
        }
        return render(request, "rating/consent.html", context)
    if step == "done":
        code = study.completion_code
        return render(
            request, "rating/done.html", {**base, "title": "All done, thank you!", "code": code}
        )
    n = int(step) if step.isdigit() else 0
    total = study_preview_count(study=study)
    page = study_preview_page(study=study, number=n) if 1 <= n <= total else None
    if page is None:
        raise Http404("no such preview step")
    next_url = (
        f"/studies/{slug}/preview/{n + 1}/" if n < total else f"/studies/{slug}/preview/done/"
    )
    if request.method == "POST":
        return redirect(next_url)
    context = {
        **base,
        "kind": study.kind,
        "token": "preview",
        "post_url": request.path,
        "n": n,
        "done": n - 1,
        "total": total,
        "preview_nav": {"n": n, "total": total, "base": f"/studies/{slug}/preview/"},
        "context": page["context"],
        "prompt_html": page["prompt_html"],
        "a_html": page["target_html"],
        "b_html": page["baseline_html"],
        "turns": page["turns"],
        **instrument_context(study.instrument.definition),
    }
    return render(request, "rating/form.html", context)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_judge_estimate(request: HttpRequest, slug: str) -> JsonResponse:
    """Calls, tokens and price of judging the study now with the chosen judge."""
    from generation.judging.selectors import judge_run_estimate

    study = _study(request, slug)
    judge = get_object_or_404(team_judges(team=request.team), slug=request.GET.get("judge", ""))
    try:
        estimate = judge_run_estimate(judge=judge, study=study)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {
            "judge": judge.slug,
            "calls": estimate.calls,
            "units": estimate.units,
            "tokens_in": estimate.tokens_in,
            "tokens_out": estimate.tokens_out,
            "cost_usd": str(estimate.cost_usd),
            "priced": estimate.priced,
            "already_judged": estimate.already_judged,
            "cached": estimate.cached,
            "describe": estimate.describe(),
        }
    )


@require_POST
@researcher_required(scope=STUDY_SCOPE)
def study_judge_run(request: HttpRequest, slug: str) -> HttpResponse:
    from generation.judging.services import judge_run_create

    study = _study(request, slug)
    form = JudgeRunForm(request.POST, team=request.team)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("workspace:study", slug=slug)
    try:
        job = judge_run_create(
            judge=form.cleaned_data["judge"],
            study=study,
            requested_by=request.user,
            budget_usd=form.cleaned_data["budget_usd"],
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("workspace:study", slug=slug)
    return redirect("jobs:detail", job_id=job.pk)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def study_results_export(request: HttpRequest, slug: str) -> JsonResponse:
    study = _study(request, slug)
    response = JsonResponse(study_results(study), json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-results.json"'
    return response


@require_GET
@researcher_required
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(team_models(team=request.team), slug=slug)
    coverage = prompt_sets_with_counts(team=request.team).order_by("slug")
    context = {
        "model": model,
        "prompt_sets": coverage,
        "nav_section": "models",
        "can_generate": model.kind != ModelEntry.Kind.EXTERNAL,
        "output_count": model.outputs.count(),
        "output_sets": model_prompt_sets(model=model),
        "history": object_history(model, team=request.team, limit=20),
    }
    return render(request, "workspace/model.html", context)
