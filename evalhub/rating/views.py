"""Rating pages: the crowd flow (/s/<study>/: entry, consent, rating loop, completion) and
the logged-in raters' loop (/rate/<study>/). Thin: find the session, call one service.

Every page a rater gets is built from pre-rendered item pages and opaque tokens only; no
model name, slug or id reaches the browser."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from evalhub.rating import instruments
from evalhub.rating.limits import over_limit
from evalhub.rating.models import RaterSession
from evalhub.rating.selectors import session_for_entry, session_page
from evalhub.rating.services import (
    SessionInputError,
    participant_hash,
    session_answer,
    session_consent,
    session_resume,
    session_start_crowd,
    session_start_user,
)
from evalhub.studies.models import Assignment, Study
from evalhub.studies.services import JudgmentInputError

COOKIE = "rs"
ENTRY_LIMIT_PER_MINUTE = 30
# Rating pages load nothing from elsewhere: no remote images, scripts or styles.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _private(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP
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


def _crowd_where(request: HttpRequest, slug: str) -> dict | None:
    token = request.COOKIES.get(COOKIE)
    return {"token": token, "study__slug": slug} if token else None


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
def crowd_entry(request: HttpRequest, slug: str) -> HttpResponse:
    """The Prolific link. Starts (or resumes) the participant's one session, keeps its token
    in a cookie and moves on to a clean URL, so the participant id leaves the address bar."""
    pid = request.GET.get("PROLIFIC_PID", "")
    if not pid:
        where = _crowd_where(request, slug)
        session = session_for_entry(where=where) if where else None
        return _see(_next_url(session)) if session else _no_session(request)
    study = get_object_or_404(Study, slug=slug, status__in=["launched", "closed"])
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
        path=f"/s/{slug}/",
        max_age=24 * 3600,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _next_url(session: RaterSession) -> str:
    slug = session.study.slug
    if session.is_finished:
        return reverse("rating:done", args=[slug])
    if session.consented_at is None:
        return reverse("rating:consent", args=[slug])
    return reverse("rating:rate", args=[slug])


@require_http_methods(["GET", "POST"])
def crowd_consent(request: HttpRequest, slug: str) -> HttpResponse:
    """Consent and instructions, in LIMA's wording; agreeing reserves the first item."""
    where = _crowd_where(request, slug)
    session = session_for_entry(where=where) if where else None
    if session is None:
        return _no_session(request)
    if request.method == "POST":
        if session.study.status != Study.Status.LAUNCHED:
            return _closed(request)
        session = session_consent(session=session)
        return _see(_next_url(session))
    if session.consented_at is not None:
        return _see(_next_url(session))
    return _page(request, "rating/consent.html", _instructions(session))


def _instructions(session: RaterSession) -> dict:
    return {
        "kind": session.study.kind,
        "quota": session.quota,
        "intro": instruments.PAIRWISE_INTRO,
        "question": instruments.PAIRWISE_QUESTION,
        "choices": instruments.PAIRWISE_CHOICES,
        "labels": instruments.LABELS,
        "credit": instruments.CREDIT,
        "minutes": session.study.reservation_seconds // 60,
    }


@require_http_methods(["GET", "POST"])
def crowd_rate(request: HttpRequest, slug: str) -> HttpResponse:
    """The rating loop: GET shows the live item (a refresh shows the same one); POST
    records the answer and redirects to the next item or the completion page."""
    where = _crowd_where(request, slug)
    if where is None:
        return _no_session(request)
    if request.method == "POST":
        return _answer(request, where, reverse("rating:rate", args=[slug]), where["token"])
    session = session_page(where=where)
    if session is None:
        return _no_session(request)
    if session.consented_at is None or session.is_finished:
        return _see(_next_url(session))
    return _show(request, session, where, reverse("rating:rate", args=[slug]))


def _show(request: HttpRequest, session: RaterSession, where: dict, here: str) -> HttpResponse:
    if session.study.status != Study.Status.LAUNCHED:
        return _closed(request)
    assignment = session.assignment
    now = timezone.now()
    if not (
        assignment
        and assignment.status == Assignment.Status.RESERVED
        and assignment.expires_at > now
    ):
        session_resume(session=session, now=now)
        session = session_page(where=where)
        if session is None or session.assignment is None:
            return _see(here if session is None else _done_url(session, here))
        assignment = session.assignment
    page = assignment.item.page
    # Only pairwise pages have two sides; a single response is always shown as "A".
    target_left = assignment.target_side == "A" or session.study.kind != Study.Kind.PAIRWISE
    context = {
        "kind": session.study.kind,
        "token": session.assignment_token,
        "post_url": here,
        "n": session.done + 1,
        "total": session.quota,
        "context": page.context,
        "prompt_html": page.prompt_html,
        "a_html": page.target_html if target_left else page.baseline_html,
        "b_html": page.baseline_html if target_left else page.target_html,
        "turns": page.turns,
        "intro": instruments.PAIRWISE_INTRO,
        "question": instruments.PAIRWISE_QUESTION,
        "choices": instruments.PAIRWISE_CHOICES,
        "labels": instruments.LABELS,
        "absolute_question": instruments.ABSOLUTE_QUESTION,
    }
    return _page(request, "rating/form.html", context)


def _done_url(session: RaterSession, here: str) -> str:
    if session.rater.user_id is not None:
        return here
    return reverse("rating:done", args=[session.study.slug])


def _answer(request: HttpRequest, where: dict, here: str, who: str) -> HttpResponse:
    """Submit the posted answer; `who` names the participant for the rate limit."""
    token = request.POST.get("a", "")
    if over_limit(f"answer:{who}", limit=settings.RATING_RATE_LIMIT_PER_MINUTE):
        return _rate_limited(request)
    labels = [request.POST.get(f"turn_{i}", "") for i in range(_turn_count(request))]
    try:
        client_ms = int(request.POST.get("t", ""))
    except ValueError:
        client_ms = None
    try:
        outcome = session_answer(
            where=where,
            assignment_token=token,
            choice=request.POST.get("choice", ""),
            turn_labels=labels or None,
            comment=request.POST.get("comment", ""),
            client_ms=client_ms,
        )
    except RaterSession.DoesNotExist:
        return _no_session(request)
    except JudgmentInputError as exc:
        return _message(request, "Please choose an answer", str(exc), status=400)
    session = outcome.session
    if session.is_finished:
        return _see(_done_url(session, here))
    return _see(here)


def _turn_count(request: HttpRequest) -> int:
    n = 0
    while f"turn_{n}" in request.POST and n < 100:
        n += 1
    return n


@require_http_methods(["GET"])
def crowd_done(request: HttpRequest, slug: str) -> HttpResponse:
    """The end: back to Prolific with the completion code, or the screen-out code after two
    failed attention checks."""
    where = _crowd_where(request, slug)
    session = session_for_entry(where=where) if where else None
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
def author_rate(request: HttpRequest, slug: str) -> HttpResponse:
    """Authors and other logged-in raters rate here, without Prolific or attention checks."""
    study = get_object_or_404(Study, slug=slug, status__in=["launched", "closed"])
    if study.status != Study.Status.LAUNCHED:
        return _closed(request)
    here = reverse("rating:author_rate", args=[slug])
    where = {"study": study, "rater__user": request.user}
    if request.method == "POST":
        return _answer(request, where, here, f"user:{request.user.pk}")
    session = session_page(where=where)
    if session is None:
        session_start_user(study=study, user=request.user)
        session = session_page(where=where)
    if session is None or session.is_finished:
        return _message(request, "Nothing left to rate", "Thank you: you have rated every item.")
    return _show(request, session, where, here)
