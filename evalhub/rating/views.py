"""Rating pages: the crowd flow (/s/<study>/: entry, consent, rating loop, completion) and
the logged-in raters' loop (/rate/<study>/). Thin: find the session, call one service.

Every page a rater gets is built from pre-rendered item pages and opaque tokens only; no
model name, slug or id reaches the browser. Each page runs once more on a new database
connection if its connection was lost (evalhub.reconnect): every write it makes is guarded
by the session's state and the assignment token, so a re-run writes nothing twice."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import get_template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from evalhub.instruments.definitions import REQUIRED, Definition
from evalhub.instruments.selectors import definition_of
from evalhub.rating.answer import session_answer
from evalhub.rating.csrf import page_csrf_token
from evalhub.rating.limits import over_limit
from evalhub.rating.models import RaterSession
from evalhub.rating.selectors import (
    RatingView,
    SessionKey,
    rating_view,
    session_for_entry,
    study_for_entry,
)
from evalhub.rating.services import (
    SessionInputError,
    participant_hash,
    session_consent,
    session_resume,
    session_start_crowd,
    session_start_user,
)
from evalhub.reconnect import rerun_once_if_disconnected
from evalhub.studies.models import Study
from evalhub.studies.services import JudgmentInputError

COOKIE = "rs"
ENTRY_LIMIT_PER_MINUTE = 30


def _private(response: HttpResponse) -> HttpResponse:
    # The Content-Security-Policy is the site's one policy (settings, django-csp).
    response["Cache-Control"] = "no-store"
    # Same-origin: the CSRF check needs our own Origin; other sites learn nothing.
    response["Referrer-Policy"] = "same-origin"
    return response


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return _private(render(request, template, context, status=status))


def _message(request: HttpRequest, title: str, text: str, status: int = 200) -> HttpResponse:
    return _page(request, "rating/message.html", {"title": title, "text": text}, status)


def _see(url: str) -> HttpResponse:
    return _private(HttpResponseRedirect(url, status=303))


def _crowd_session(request: HttpRequest, crowd_code: str) -> RaterSession | None:
    """The crowd session the cookie names in this study, with its study."""
    token = request.COOKIES.get(COOKIE)
    return session_for_entry(key=SessionKey.crowd(token, crowd_code)) if token else None


def _no_session(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        "Please start from Prolific",
        "We could not find your session. Open this study again from its Prolific link.",
        status=403,
    )


def _closed(request: HttpRequest) -> HttpResponse:
    return _message(request, "This study is closed", "Thank you for your interest.")


def _rate_limited(request: HttpRequest) -> HttpResponse:
    return _message(
        request, "One moment", "That was very fast. Please wait a few seconds.", status=429
    )


# --- crowd ---------------------------------------------------------------------------------


@require_http_methods(["GET"])
@rerun_once_if_disconnected
def crowd_entry(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """The Prolific link. Starts (or resumes) the participant's one session, keeps its token
    in a cookie and moves on to a clean URL, so the participant id leaves the address bar."""
    pid = request.GET.get("PROLIFIC_PID", "")
    if not pid:
        session = _crowd_session(request, crowd_code)
        return _see(_next_url(session)) if session else _no_session(request)
    study = study_for_entry(crowd_code=crowd_code)
    if study is None:
        raise Http404("No such study")
    if study.status != Study.Status.LAUNCHED:
        return _closed(request)
    if over_limit(f"entry:{participant_hash(pid)}", limit=ENTRY_LIMIT_PER_MINUTE):
        return _rate_limited(request)
    try:
        session = session_start_crowd(
            study=study,
            participant_id=pid,
            prolific_study_id=request.GET.get("STUDY_ID", ""),
            prolific_session_id=request.GET.get("SESSION_ID", ""),
        )
    except SessionInputError as exc:
        return _message(request, "This link is not complete", str(exc), status=400)
    response = _see(_next_url(session))
    response.set_cookie(
        COOKIE,
        session.token,
        path=f"/s/{crowd_code}/",
        max_age=24 * 3600,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _next_url(session: RaterSession) -> str:
    rate, done, consent = _loop_urls(session.study.crowd_code, get_script_prefix())
    if session.is_finished:
        return done
    return consent if session.consented_at is None else rate


@require_http_methods(["GET", "POST"])
@rerun_once_if_disconnected
def crowd_consent(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """Consent and instructions, in LIMA's wording; agreeing reserves the first item."""
    session = _crowd_session(request, crowd_code)
    if session is None:
        return _no_session(request)
    if request.method == "POST":
        if session.study.status != Study.Status.LAUNCHED:
            return _closed(request)
        session = session_consent(session=session)
        return _see(_next_url(session))
    if session.consented_at is not None:
        return _see(_next_url(session))
    study = session.study
    instructions = (study.kind, session.quota, study.reservation_seconds // 60,
                    study.instrument_id, _frozen_hash(study))  # fmt: skip
    if settings.DEBUG:
        return _page(request, "rating/consent.html", _instructions(*instructions))
    return _filled(request, _consent_skeleton(*instructions), {})


def _frozen_hash(study: Study) -> str | None:
    return (study.config.get("instrument") or {}).get("content_hash")


def instrument_context(definition: Definition) -> dict:
    """What the rater pages show of the study's instrument."""
    return {
        "intro": definition.intro,
        "question": definition.question,
        "choices": definition.choices,
        "credit": definition.credit,
        "comment_required": definition.comment == REQUIRED,
    }


def _instructions(
    kind: str, quota: int, minutes: int, instrument_id: int, instrument_hash: str | None
) -> dict:
    return {
        "kind": kind,
        "quota": quota,
        "minutes": minutes,
        **instrument_context(definition_of(instrument_id, instrument_hash)),
    }


@require_http_methods(["GET", "POST"])
@rerun_once_if_disconnected
def crowd_rate(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """The rating loop: GET shows the live item (a refresh shows the same one); POST
    records the answer and redirects to the next item or the completion page."""
    token = request.COOKIES.get(COOKIE)
    if not token:
        return _no_session(request)
    key = SessionKey.crowd(token, crowd_code)
    here, done, consent = _loop_urls(crowd_code, get_script_prefix())
    if request.method == "POST":
        return _answer(request, key, here, done)
    return _show(request, key, here, done, consent=consent)


@lru_cache(maxsize=1024)
def _loop_urls(crowd_code: str, prefix: str) -> tuple[str, str, str]:
    """The rating loop's own, done and consent URLs of a study (reversed once: `reverse`
    costs more than the rest of a page view's Python). `prefix` keys the cache."""
    return tuple(
        reverse(f"rating:{name}", args=[crowd_code]) for name in ("rate", "done", "consent")
    )


def _show(
    request: HttpRequest, key: SessionKey, here: str, done: str, consent: str = ""
) -> HttpResponse:
    """The live item's form (one query), reserving a fresh item first if the session's
    reservation expired; `done` is where a finished session goes, `consent` where one
    that has not consented yet goes."""
    view = rating_view(key=key)
    if view is None:
        return _no_session(request)
    if view.consented_at is None or view.is_finished:
        return _see(done if view.is_finished else consent or here)
    if view.study_status != Study.Status.LAUNCHED:
        return _closed(request)
    now = timezone.now()
    if not view.is_live(now):
        session_resume(session=RaterSession(pk=view.session_id), now=now)
        view = rating_view(key=key)
        if view is None or not view.is_live(now):
            return _see(here if view is None or not view.is_finished else done)
    return _form_page(request, view, here)


def _form_context(view: RatingView, here: str) -> dict:
    # Only pairwise pages have two sides; a single response is always "A".
    target_left = view.target_side == "A" or view.kind != Study.Kind.PAIRWISE
    return {
        "kind": view.kind,
        "token": view.assignment_token,
        "post_url": here,
        "n": view.done + 1,
        "done": view.done,  # the progress bar's value
        "total": view.quota,
        "context": view.context,
        "prompt_html": view.prompt_html,
        "a_html": view.target_html if target_left else view.baseline_html,
        "b_html": view.baseline_html if target_left else view.target_html,
        "turns": view.turns,
        **instrument_context(definition_of(view.instrument_id, view.instrument_hash)),
    }


# A rating page is the same page around a few values, so each kind of page is rendered once
# with markers in their places and then filled in: a page view costs a join, not a template
# render. Forms with earlier turns or dialogue turns render normally, and so does every
# page under DEBUG (template edits show at once).
_SLOT = "\x00{}\x00"
_SLOTS = re.compile("\x00(\\w+)\x00")
_ESCAPED = {"token", "post_url", "csrf_token", "n", "done", "total"}


def _skeleton(template: str, context: dict) -> tuple[str, ...]:
    """`template` rendered with `context` (markers in its slots, and in the CSRF token's),
    split around the slots: text, slot name, text, ..."""
    context = {**context, "csrf_token": _SLOT.format("csrf_token")}
    return tuple(_SLOTS.split(get_template(template).render(context)))


@lru_cache(maxsize=64)
def _form_skeleton(kind: str, instrument_id: int, instrument_hash: str | None) -> tuple[str, ...]:
    marked = {name: _SLOT.format(name) for name in _ESCAPED | {"prompt_html", "a_html", "b_html"}}
    blank = RatingView(0, "", None, 0, 0, "", "", kind, None, None, "A", [], "", "", "", [],
                       instrument_id, instrument_hash)  # fmt: skip
    return _skeleton("rating/form.html", {**_form_context(blank, ""), **marked})


@lru_cache(maxsize=64)
def _consent_skeleton(
    kind: str, quota: int, minutes: int, instrument_id: int, instrument_hash: str | None
) -> tuple[str, ...]:
    return _skeleton(
        "rating/consent.html",
        _instructions(kind, quota, minutes, instrument_id, instrument_hash),
    )


def _filled(request: HttpRequest, skeleton: tuple[str, ...], values: dict) -> HttpResponse:
    """The page of `skeleton` with `values` (escaped where _ESCAPED says) and a fresh CSRF
    token in its slots. Escaped as Django's `escape` does (the standard library's
    html.escape, quotes too) without its lazy-string wrapper, which cost more than the
    escaping on every page view."""
    values["csrf_token"] = page_csrf_token(request)  # masked afresh for each page (BREACH)
    parts = list(skeleton)
    for i in range(1, len(parts), 2):
        value = values[parts[i]]
        parts[i] = html.escape(str(value)) if parts[i] in _ESCAPED else value
    return _private(HttpResponse("".join(parts)))


def _form_page(request: HttpRequest, view: RatingView, here: str) -> HttpResponse:
    context = _form_context(view, here)
    if view.context or view.kind == Study.Kind.DIALOGUE or settings.DEBUG:
        return _page(request, "rating/form.html", context)
    skeleton = _form_skeleton(view.kind, view.instrument_id, view.instrument_hash)
    return _filled(request, skeleton, context)


def _answer(request: HttpRequest, key: SessionKey, here: str, done: str) -> HttpResponse:
    """Submit the posted answer (counted against the session's per-minute limit)."""
    labels = [request.POST.get(f"turn_{i}", "") for i in range(_turn_count(request))]
    try:
        client_ms = int(request.POST.get("t", ""))
    except ValueError:
        client_ms = None
    try:
        outcome = session_answer(
            key=key,
            assignment_token=request.POST.get("a", ""),
            choice=request.POST.get("choice", ""),
            turn_labels=labels or None,
            comment=request.POST.get("comment", ""),
            client_ms=client_ms,
            limit=settings.RATING_RATE_LIMIT_PER_MINUTE,
        )
    except JudgmentInputError as exc:
        return _message(request, "Please choose an answer", str(exc), status=400)
    if outcome is None:
        return _no_session(request)
    if outcome.rate_limited:
        return _rate_limited(request)
    return _see(done if outcome.finished else here)


def _turn_count(request: HttpRequest) -> int:
    n = 0
    while f"turn_{n}" in request.POST and n < 100:
        n += 1
    return n


@require_http_methods(["GET"])
@rerun_once_if_disconnected
def crowd_done(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """The end: back to Prolific with the completion code, or the screen-out code after two
    failed attention checks."""
    session = _crowd_session(request, crowd_code)
    if session is None:
        return _no_session(request)
    if not session.is_finished:
        return _see(_next_url(session))
    study = session.study
    if session.status == RaterSession.Status.SCREENED_OUT:
        code, title = study.screenout_code, "Thank you"
    elif session.done > 0:
        code, title = study.completion_code, "All done, thank you!"
    else:
        return _message(
            request,
            "No items are left",
            "Every item has enough ratings already. Please return this study on Prolific.",
        )
    url = f"{settings.PROLIFIC_COMPLETION_URL}?{urlencode({'cc': code})}" if code else ""
    return _page(request, "rating/done.html", {"title": title, "url": url, "code": code})


# --- logged-in raters (authors) --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@rerun_once_if_disconnected
def author_rate(request: HttpRequest, crowd_code: str) -> HttpResponse:
    """Authors and other logged-in raters rate here, without Prolific or attention checks."""
    study = study_for_entry(crowd_code=crowd_code)
    if study is None:
        raise Http404("No such study")
    if study.status != Study.Status.LAUNCHED:
        return _closed(request)
    here = reverse("rating:author_rate", args=[crowd_code])
    key = SessionKey.author(study.pk, request.user.pk)
    if request.method == "POST":
        return _answer(request, key, here, here)
    view = rating_view(key=key)
    if view is None:
        session_start_user(study=study, user=request.user)
        view = rating_view(key=key)
    if view is None or view.is_finished:
        return _message(request, "Nothing left to rate", "Thank you: you have rated every item.")
    return _show(request, key, here, here)
