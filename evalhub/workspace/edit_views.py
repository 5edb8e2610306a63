"""Change and remove: edit or delete a draft study, change a running study's Prolific codes
and quality rules, rename or delete a prompt set or model, and clear a model's outputs so a
corrected file can replace the upload; every edit is recorded (evalhub.audit), and the
history page lists the record. Thin: forms validate, editing writes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from evalhub.accounts.decorators import owner_required, researcher_required
from evalhub.audit.selectors import OBJECT_TYPES, edit_records, object_history
from evalhub.importing import InputError
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import MODEL_SCOPE, team_models
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import PROMPT_SET_SCOPE, team_prompt_sets
from evalhub.studies import editing
from evalhub.studies.models import Study
from evalhub.studies.selectors import STUDY_SCOPE, team_studies
from evalhub.studies.services import StudyStateError
from evalhub.workspace.edit_forms import RenameForm, RunningSettingsForm, StudyDraftForm


def _problems(form: Any, exc: InputError) -> None:
    """Each problem under its field; a quality rule's under the rules, named; anything
    else above the form, named."""
    for problem in exc.problems:
        if problem.field in form.fields:
            form.add_error(problem.field, problem.message)
        else:
            where = "quality_rules" if "quality_rules" in form.fields else None
            form.add_error(where, f"{problem.field}: {problem.message}")


def _study(request: HttpRequest, slug: str) -> Study:
    return get_object_or_404(
        team_studies(team=request.team).select_related("prompt_set", "target_model", "instrument"),
        slug=slug,
    )


def _prompt_set(request: HttpRequest, slug: str) -> PromptSet:
    return get_object_or_404(team_prompt_sets(team=request.team), slug=slug)


def _model(request: HttpRequest, slug: str) -> ModelEntry:
    return get_object_or_404(team_models(team=request.team), slug=slug)


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def study_edit(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    if study.status != Study.Status.DRAFT:
        return redirect("workspace:study_settings", slug=study.slug)
    form = StudyDraftForm(request.POST or None, study=study)
    if request.method == "POST" and form.is_valid():
        fields = form.edit_fields()
        try:
            editing.study_edit_draft(study=study, by=request.user, **fields)
        except (InputError, StudyStateError) as exc:
            if isinstance(exc, InputError):
                _problems(form, exc)
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {study.name}.")
            return redirect("workspace:study", slug=study.slug)
    context = {"form": form, "study": study, "nav_section": "studies"}
    return render(request, "workspace/edit/study_edit.html", context)


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def study_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The Prolific codes and quality rules, editable in any state; every edit recorded."""
    study = _study(request, slug)
    initial = {
        "completion_code": study.completion_code,
        "screenout_code": study.screenout_code,
        "quality_rules": json.dumps(study.quality_rules or {}, indent=1),
    }
    form = RunningSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            edit = editing.study_running_settings_update(
                study=study, by=request.user, **form.cleaned_data
            )
        except InputError as exc:
            _problems(form, exc)
        else:
            messages.success(request, "Saved and recorded." if edit else "Nothing changed.")
            return redirect("workspace:study_settings", slug=study.slug)
    context = {
        "form": form,
        "study": study,
        "history": object_history(study, team=request.team),
        "nav_section": "studies",
    }
    return render(request, "workspace/edit/study_settings.html", context)


def _confirm_delete(
    request: HttpRequest, *, what: str, back: str, delete: Any, done: str, crumbs: list
) -> HttpResponse:
    refused = ""
    if request.method == "POST":
        try:
            delete()
        except (editing.DeletionRefused, StudyStateError) as exc:
            refused = str(exc)
        else:
            messages.success(request, f"Deleted {what}.")
            return redirect(done)
    context = {"what": what, "back": back, "refused": refused, "crumbs": crumbs}
    return render(
        request, "workspace/edit/confirm_delete.html", context, status=409 if refused else 200
    )


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def study_delete(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    return _confirm_delete(
        request, what=f"study {study.slug}", back=f"/studies/{study.slug}/",
        delete=lambda: editing.study_delete_draft(study=study, by=request.user),
        done="workspace:studies",
        crumbs=[("Studies", "/studies/"), (study.name, f"/studies/{study.slug}/")],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@researcher_required(scope=PROMPT_SET_SCOPE)
def prompt_set_delete(request: HttpRequest, slug: str) -> HttpResponse:
    prompt_set = _prompt_set(request, slug)
    return _confirm_delete(
        request, what=f"prompt set {prompt_set.slug}", back=f"/prompt-sets/{slug}/",
        delete=lambda: editing.prompt_set_delete(prompt_set=prompt_set, by=request.user),
        done="workspace:prompt_sets",
        crumbs=[("Prompt sets", "/prompt-sets/"), (slug, f"/prompt-sets/{slug}/")],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@researcher_required(scope=MODEL_SCOPE)
def model_delete(request: HttpRequest, slug: str) -> HttpResponse:
    model = _model(request, slug)
    return _confirm_delete(
        request, what=f"model {model.slug}", back=f"/models/{slug}/",
        delete=lambda: editing.model_delete(model=model, by=request.user),
        done="workspace:models",
        crumbs=[("Models", "/models/"), (slug, f"/models/{slug}/")],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@researcher_required(scope=MODEL_SCOPE)
def model_outputs_replace(request: HttpRequest, slug: str, prompt_set: str) -> HttpResponse:
    """Clear the model's outputs for one prompt set, then upload the corrected file."""
    model = _model(request, slug)
    chosen = _prompt_set(request, prompt_set)
    upload = f"/uploads/?kind=outputs&prompt_set={chosen.slug}&model={model.slug}"
    return _confirm_delete(
        request, what=f"the outputs of {model.slug} for {chosen.slug}", back=f"/models/{slug}/",
        delete=lambda: editing.model_outputs_clear(model=model, prompt_set=chosen, by=request.user),
        done=upload,
        crumbs=[("Models", "/models/"), (slug, f"/models/{slug}/")],
    )  # fmt: skip


def _rename(request: HttpRequest, obj: Any, rename: Any, page: str, crumbs: list) -> HttpResponse:
    """`page`: the URL name of the renamed thing's page (it moves with the slug)."""
    form = RenameForm(request.POST or None, initial={"slug": obj.slug, "name": obj.name})
    refused = ""
    if request.method == "POST" and form.is_valid():
        try:
            renamed = rename(**form.cleaned_data)
        except editing.DeletionRefused as exc:
            refused = str(exc)
        except InputError as exc:
            _problems(form, exc)
        else:
            messages.success(request, f"Renamed to {renamed.slug}.")
            return redirect(page, slug=renamed.slug)
    context = {"form": form, "obj": obj, "refused": refused, "crumbs": crumbs}
    return render(request, "workspace/edit/rename.html", context)


@require_http_methods(["GET", "POST"])
@researcher_required(scope=PROMPT_SET_SCOPE)
def prompt_set_edit(request: HttpRequest, slug: str) -> HttpResponse:
    prompt_set = _prompt_set(request, slug)
    return _rename(
        request, prompt_set,
        lambda **f: editing.prompt_set_rename(prompt_set=prompt_set, by=request.user, **f),
        "workspace:prompt_set", [("Prompt sets", "/prompt-sets/"), (slug, f"/prompt-sets/{slug}/")],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@researcher_required(scope=MODEL_SCOPE)
def model_edit(request: HttpRequest, slug: str) -> HttpResponse:
    model = _model(request, slug)
    return _rename(
        request, model, lambda **f: editing.model_rename(model=model, by=request.user, **f),
        "workspace:model", [("Models", "/models/"), (slug, f"/models/{slug}/")],
    )  # fmt: skip


@require_http_methods(["GET"])
@owner_required
def history(request: HttpRequest) -> HttpResponse:
    """The team's one audit log, newest first (owners): every edit, with before and after,
    and every launch, close, exclusion, deletion, token and membership change; what pages
    of deleted objects cannot show. The history of an object the team's log does not hold
    (another team's) is a 404, as one that does not exist."""
    object_type = request.GET.get("type", "")
    object_type = object_type if object_type in OBJECT_TYPES else ""
    object_id = request.GET.get("id", "")
    records = edit_records(
        team=request.team,
        object_type=object_type,
        object_id=int(object_id) if object_id.isdigit() else None,
    )
    if object_type and object_id.isdigit() and not records.exists():
        raise Http404("No history of that object in this team.")
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    kept = urlencode({k: v for k, v in (("type", object_type), ("id", object_id)) if v})
    context = {
        "page": page, "kept": kept, "object_types": OBJECT_TYPES, "chosen": object_type,
        "nav_section": "history",
    }  # fmt: skip
    return render(request, "workspace/edit/history.html", context)
