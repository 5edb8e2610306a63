"""Login lock-out page (django-axes) and the researcher's API tokens page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from evalhub.accounts.decorators import member_required
from evalhub.accounts.forms import ApiTokenForm
from evalhub.accounts.selectors import api_tokens_of
from evalhub.accounts.services import api_token_create, api_token_revoke


def _minutes(delta: timedelta | None) -> str:
    if delta is None:
        return "until an administrator unlocks it"
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"for {minutes} minute{'s' if minutes != 1 else ''} after the last try"


def login_locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What django-axes answers once an (account, address) pair is locked: the login form
    again, saying so plainly, with 429."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    locked = (
        f"Too many failed logins for this account from your address "
        f"({settings.AXES_FAILURE_LIMIT} in a row). Logging in is locked "
        f"{_minutes(get_cool_off(request))}, even with the right password. "
        f"Wait, or ask an administrator to unlock it."
    )
    context = {"form": form, "locked_out": locked, "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


@never_cache
@member_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List the member's tokens in the current team and make a new one (it carries the
    member's role there); its raw value is on this one response only (never stored, never
    cached)."""
    created: dict[str, Any] | None = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_days"]
        token, raw = api_token_create(
            user=request.user, team=request.team, expires_in=timedelta(days=days) if days else None
        )
        created = {"raw": raw, "expiry": token.expiry}
        form = ApiTokenForm()
    status = 400 if request.method == "POST" and created is None else 200
    tokens = api_tokens_of(user=request.user, team=request.team)
    context = {"tokens": tokens, "form": form, "created": created}
    return render(request, "accounts/tokens.html", context, status=status)


@member_required
@require_POST
def api_token_revoke_view(request: HttpRequest) -> HttpResponse:
    digest = request.POST.get("token", "")
    if api_token_revoke(team=request.team, by=request.user, digest=digest):
        messages.success(request, "Token revoked: it no longer works.")
    else:
        messages.error(request, "No such token (already revoked or expired?).")
    return redirect("accounts:tokens")
