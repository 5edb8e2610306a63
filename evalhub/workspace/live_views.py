"""Live studies in the workspace: the new-live-study form and the preview. Launch, close
and results go through the study's own pages (workspace.views), which know live studies."""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from evalhub.accounts.decorators import researcher_required
from evalhub.live.battle_instrument import battle_definition
from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.live.preview import History, live_preview_turn, preview_sides
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.studies.selectors import STUDY_SCOPE, team_studies
from evalhub.workspace.live_forms import LiveStudyForm


@require_http_methods(["GET", "POST"])
@researcher_required
def live_study_new(request: HttpRequest) -> HttpResponse:
    """Saves a draft live study with the service the API calls; the study page launches it."""
    form = LiveStudyForm(request.POST or None, initial=request.GET.dict(), team=request.team)
    if request.method == "POST" and form.is_valid():
        try:
            study = live_study_create(
                **form.service_fields(), team=request.team, by=request.user, launch=False
            )
        except LiveInputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("workspace:study", slug=study.slug)
    context = {"form": form, "nav_section": "studies"}
    return render(request, "workspace/live_study_new.html", context)


_PREVIEW_SALT = "workspace.live-preview"


def _history(raw: str) -> History:
    """The preview's earlier turns, signed into the page (tampered or absent: none)."""
    try:
        return signing.loads(raw, salt=_PREVIEW_SALT) if raw else {}
    except signing.BadSignature:
        return {}


@require_http_methods(["GET", "POST"])
@researcher_required(scope=STUDY_SCOPE)
def live_study_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """Chat with the study's real models as a participant would, anonymously; nothing is
    recorded (the conversation so far travels signed in the page)."""
    study = get_object_or_404(
        team_studies(team=request.team).select_related("live", "target_model"), slug=slug
    )
    if not hasattr(study, "live"):
        raise Http404("not a live study")
    history = _history(request.POST.get("history", "")) if request.method == "POST" else {}
    error = ""
    if request.method == "POST" and request.POST.get("restart"):
        history = {}
    elif request.method == "POST":
        text = request.POST.get("text", "")
        try:
            answers = live_preview_turn(study=study, history=history, text=text)
        except LiveInputError as exc:
            error = str(exc)
        else:  # a turn with a failed side is not kept, as in the study itself
            error = " ".join(f"Answer {a.side}: {a.error}" for a in answers if a.error)
            for answer in [] if error else answers:
                history.setdefault(answer.side, []).append(
                    {"user": text.strip(), "assistant": answer.text}
                )
    sides = preview_sides(study)
    turns = [
        {"user": history[sides[0]][i]["user"],
         "answers": [(s, render_untrusted_markdown(history[s][i]["assistant"])) for s in sides]}
        for i in range(len(history.get(sides[0], [])))
    ]  # fmt: skip
    asked = battle_definition(study) if len(sides) == 2 else None
    context = {
        "study": study, "turns": turns, "error": error, "sides": sides, "asked": asked,
        "history": signing.dumps(history, salt=_PREVIEW_SALT) if history else "",
        "at_limit": len(turns) >= study.live.max_turns, "nav_section": "studies",
    }  # fmt: skip
    return render(request, "workspace/live_preview.html", context)
