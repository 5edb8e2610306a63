"""Live study pages (/live/<study>/...): Prolific entry (or a logged-in staff entry),
consent, the chat page, its JSON actions (label, vote, end) and the streamed answer
(`send`, async: serve it from ASGI).

Nothing here sends a model name, slug or id to the rater's browser before the vote (and
after it only when the study reveals models)."""

from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from evalhub.accounts.decorators import researcher_required
from evalhub.instruments.definitions import definition_from_data
from evalhub.instruments.presets import preset_data
from evalhub.live.battle_instrument import battle_definition
from evalhub.live.errors import LiveInputError
from evalhub.live.models import LiveStudy
from evalhub.live.selectors import (
    chat_state,
    conversations_export,
    live_study_for_entry,
    session_for_cookie,
)
from evalhub.live.services import (
    battle_vote,
    conversation_end,
    conversation_start,
    live_session_consent,
    live_session_start_staff,
    turn_label,
)
from evalhub.rating.limits import over_limit
from evalhub.rating.models import RaterSession
from evalhub.rating.services import SessionInputError, participant_hash, session_start_crowd
from evalhub.rating.views import ENTRY_LIMIT_PER_MINUTE
from evalhub.studies.models import Study
from evalhub.studies.selectors import STUDY_BY_CROWD_CODE_SCOPE

COOKIE = "ls"


def _private(response: HttpResponse) -> HttpResponse:
    # The site's CSP (evalhub.content_security) already allows the stream's connect-src 'self'.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _message(request: HttpRequest, title: str, text: str, status: int = 200) -> HttpResponse:
    return _private(render(request, "rating/message.html", {"title": title, "text": text},
                           status=status))  # fmt: skip


def _see(url: str) -> HttpResponse:
    return _private(HttpResponseRedirect(url, status=303))


def _session(request: HttpRequest, crowd_code: str) -> RaterSession | None:
    token = request.COOKIES.get(COOKIE)
    return session_for_cookie(token=token, crowd_code=crowd_code) if token else None


def _no_session(request: HttpRequest) -> HttpResponse:
    return _message(request, "Please start from Prolific",
                    "We could not find your session. Open this study again from its Prolific "
                    "link.", status=403)  # fmt: skip


def _next_url(session: RaterSession) -> str:
    crowd_code = session.study.crowd_code
    if session.is_finished:
        return reverse("live:done", args=[crowd_code])
    if session.consented_at is None:
        return reverse("live:consent", args=[crowd_code])
    return reverse("live:chat", args=[crowd_code])


@require_http_methods(["GET"])
def entry(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """The Prolific link: starts (or resumes) the participant's session, as rating does."""
    pid = request.GET.get("PROLIFIC_PID", "")
    if not pid:
        session = _session(request, crowd_code)
        return _see(_next_url(session)) if session else _no_session(request)
    live = live_study_for_entry(crowd_code=crowd_code)
    if live is None:
        raise Http404("No such live study")
    if live.participants == LiveStudy.Participants.STAFF:
        return _message(request, "This study is for the lab's staff",
                        "Staff log in and open it from the workspace.", status=403)  # fmt: skip
    if live.study.status != Study.Status.LAUNCHED:
        return _message(request, "This study is closed", "Thank you for your interest.")
    if over_limit(f"entry:{participant_hash(pid)}", limit=ENTRY_LIMIT_PER_MINUTE):
        return _message(request, "One moment", "Please wait a few seconds.", status=429)
    try:
        session = session_start_crowd(
            study=live.study, participant_id=pid,
            prolific_study_id=request.GET.get("STUDY_ID", ""),
            prolific_session_id=request.GET.get("SESSION_ID", ""),
        )  # fmt: skip
    except SessionInputError as exc:
        return _message(request, "This link is not complete", str(exc), status=400)
    return _with_cookie(request, _see(_next_url(session)), session)


def _with_cookie(
    request: HttpRequest, response: HttpResponse, session: RaterSession
) -> HttpResponse:
    # The chat, its actions and the ASGI answer endpoint all know the session by this cookie.
    response.set_cookie(COOKIE, session.token, path=f"/live/{session.study.crowd_code}/",
                        max_age=24 * 3600, secure=request.is_secure(), httponly=True,
                        samesite="Lax")  # fmt: skip
    return response


@login_required
@require_http_methods(["GET"])
def staff_entry(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """A staff study's link for logged-in users: starts (or resumes) their session, then
    the same chat pages as Prolific participants, with no ids or codes."""
    live = live_study_for_entry(crowd_code=crowd_code)
    if live is None:
        raise Http404("No such live study")
    if live.study.status != Study.Status.LAUNCHED:
        return _message(request, "This study is closed", "Thank you for your interest.")
    try:
        session = live_session_start_staff(study=live.study, user=request.user)
    except LiveInputError as exc:
        return _message(request, "This study is for Prolific participants", str(exc),
                        status=exc.status)  # fmt: skip
    return _with_cookie(request, _see(_next_url(session)), session)


@lru_cache(maxsize=1)
def _lima_words() -> dict:
    """LIMA's words from its presets: the 3-way vote of battles and the Fail / Pass /
    Excellent turn labels of conversations."""
    presets = preset_data()
    pairwise = definition_from_data(presets["lima-pairwise"])
    absolute = definition_from_data(presets["lima-fail-pass-excellent"])
    return {
        "intro": pairwise.intro,
        "credit": pairwise.credit,
        "question": pairwise.question,
        "choices": [(c.value, c.label) for c in pairwise.choices],
        "absolute_question": absolute.question,
        "labels": [(c.value, c.label, c.definition) for c in absolute.choices],
    }


def _words(study: Study) -> dict:
    """_lima_words with a battle's question and choices from the study's instrument."""
    words = dict(_lima_words())
    if study.live.mode == LiveStudy.Mode.BATTLE:
        asked = battle_definition(study)
        words.update(intro=asked.intro, credit=asked.credit, question=asked.question,
                     choices=[(c.value, c.label) for c in asked.choices])  # fmt: skip
    return words


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, crowd_code: str) -> HttpResponse:
    session = _session(request, crowd_code)
    if session is None:
        return _no_session(request)
    if request.method == "POST":
        return _see(_next_url(live_session_consent(session=session)))
    if session.consented_at is not None:
        return _see(_next_url(session))
    live = session.study.live
    context = {"mode": live.mode, "quota": session.quota, "max_turns": live.max_turns,
               **_words(session.study), "max_chars": live.max_prompt_chars}  # fmt: skip
    return _private(render(request, "live/consent.html", context))


@require_http_methods(["GET"])
def chat(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """The chat page of the session's current conversation or battle (a new one if none)."""
    session = _session(request, crowd_code)
    if session is None:
        return _no_session(request)
    if session.is_finished or session.consented_at is None:
        return _see(_next_url(session))
    if session.study.status != Study.Status.LAUNCHED:
        return _message(request, "This study is closed", "Thank you for your interest.")
    conversation = conversation_start(session=session)
    state = chat_state(conversation)
    base = f"/live/{crowd_code}/c/{conversation.token}/"
    page = {
        "mode": state["mode"], "max_turns": state["max_turns"], "answered": state["answered"],
        "needs_label": state["needs_label"], "send": base + "send/", "label": base + "label/",
        "vote": base + "vote/", "end": base + "end/",
        "next": reverse("live:chat", args=[crowd_code]),
        "max_chars": session.study.live.max_prompt_chars,
    }  # fmt: skip
    context = {**state, "page": page, "n": session.done + 1, "done": session.done,
               "total": session.quota, **_words(session.study)}  # fmt: skip
    return _private(render(request, "live/chat.html", context))


def _json_error(exc: LiveInputError) -> JsonResponse:
    return JsonResponse({"error": str(exc)}, status=exc.status)


def send_needs_asgi(request: HttpRequest, crowd_code: str, token: str) -> HttpResponse:
    """The answer endpoint is served by evalhub.asgi (evalhub.live.stream_app), in front of
    Django; a request that reaches Django came through the WSGI server."""
    return JsonResponse(
        {"error": "Live answers stream from the ASGI server (evalhub.asgi); route /live/ there."},
        status=501,
    )


def _finished(request: HttpRequest, crowd_code: str, finished) -> JsonResponse:
    return JsonResponse({
        "finished": finished is not None,
        "next": reverse("live:done" if finished and finished.finished_session else "live:chat",
                        args=[crowd_code]),
        "reveal": finished.reveal if finished else {},
    })  # fmt: skip


@require_POST
def label(request: HttpRequest, crowd_code: str, token: str) -> HttpResponse:
    session = _session(request, crowd_code)
    if session is None:
        return JsonResponse({"error": "We could not find your session."}, status=403)
    try:
        finished = turn_label(session=session, token=token, label=request.POST.get("label", ""))
    except LiveInputError as exc:
        return _json_error(exc)
    return _finished(request, crowd_code, finished)


@require_POST
def vote(request: HttpRequest, crowd_code: str, token: str) -> HttpResponse:
    session = _session(request, crowd_code)
    if session is None:
        return JsonResponse({"error": "We could not find your session."}, status=403)
    try:
        finished = battle_vote(session=session, token=token, choice=request.POST.get("choice", ""))
    except LiveInputError as exc:
        return _json_error(exc)
    return _finished(request, crowd_code, finished)


@require_POST
def end(request: HttpRequest, crowd_code: str, token: str) -> HttpResponse:
    session = _session(request, crowd_code)
    if session is None:
        return JsonResponse({"error": "We could not find your session."}, status=403)
    try:
        finished = conversation_end(session=session, token=token)
    except LiveInputError as exc:
        return _json_error(exc)
    return _finished(request, crowd_code, finished)


@require_http_methods(["GET"])
def done(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """Back to Prolific with the completion code."""
    session = _session(request, crowd_code)
    if session is None:
        return _no_session(request)
    if not session.is_finished:
        return _see(_next_url(session))
    code = session.study.completion_code
    url = f"{settings.PROLIFIC_COMPLETION_URL}?{urlencode({'cc': code})}" if code else ""
    context = {"title": "All done, thank you!", "url": url, "code": code}
    return _private(render(request, "rating/done.html", context))


@researcher_required(scope=STUDY_BY_CROWD_CODE_SCOPE)
@require_http_methods(["GET"])
def export(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """Every conversation of the study as JSON Lines (failed turns included); another
    team's study is not found."""
    live = live_study_for_entry(crowd_code=crowd_code)
    if live is None or live.study.team_id != request.team.pk:
        raise Http404("No such live study")
    lines = (json.dumps(row) + "\n" for row in conversations_export(live.study))
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    response["Content-Disposition"] = (
        f'attachment; filename="{live.study.slug}-conversations.jsonl"'
    )
    return response
