"""The team page (owners: members, roles, invitations, tokens, audit log), the team
switcher, and the invitation link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from evalhub.accounts.decorators import member_required, owner_required
from evalhub.accounts.services import api_token_revoke
from evalhub.teams.current import team_choose
from evalhub.teams.models import Role
from evalhub.teams.selectors import (
    audit_events,
    invitation_for_token,
    invitation_refusal,
    membership_in,
    team_members,
    team_tokens,
)
from evalhub.teams.services import (
    TeamError,
    invitation_accept,
    invitation_create,
    membership_remove,
    membership_role_change,
)

AUDIT_SHOWN = 200


@never_cache
@owner_required
@require_http_methods(["GET"])
def team(request: HttpRequest) -> HttpResponse:
    context = {
        "members": team_members(team=request.team),
        "tokens": team_tokens(team=request.team),
        "events": audit_events(team=request.team)[:AUDIT_SHOWN],
        "roles": Role.choices,
        "invite_link": request.session.pop("invite_link", None),
    }
    return render(request, "teams/team.html", context)


@owner_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, f"role: choose one of {', '.join(Role.values)}.")
        return redirect("teams:team")
    _, raw = invitation_create(team=request.team, by=request.user, role=role)
    # Shown once, on the next page: only its hash is kept.
    request.session["invite_link"] = request.build_absolute_uri(f"/teams/join/{raw}/")
    return redirect("teams:team")


def _member_user(request: HttpRequest):
    user = get_user_model().objects.filter(pk=request.POST.get("user") or None).first()
    if user is None or membership_in(user=user, team_id=request.team.pk) is None:
        raise Http404("No such member.")
    return user


@owner_required
@require_POST
def member_role(request: HttpRequest) -> HttpResponse:
    user = _member_user(request)
    try:
        membership_role_change(
            team=request.team, by=request.user, user=user, role=request.POST.get("role", "")
        )
    except (TeamError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect("teams:team")


@owner_required
@require_POST
def member_remove(request: HttpRequest) -> HttpResponse:
    user = _member_user(request)
    try:
        membership_remove(team=request.team, by=request.user, user=user)
    except TeamError as exc:
        messages.error(request, str(exc))
    return redirect("teams:team")


@owner_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    digest = request.POST.get("token", "")
    if not api_token_revoke(team=request.team, by=request.user, digest=digest, as_owner=True):
        raise Http404("No such token in this team.")
    messages.success(request, "Token revoked: it no longer works.")
    return redirect("teams:team")


@member_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Make another of the user's teams the current one; a team they are not in is a 404."""
    membership = membership_in(user=request.user, team_id=request.POST.get("team") or None)
    if membership is None:
        raise Http404("No such team.")
    team_choose(request, team=membership.team)
    return redirect("workspace:studies")


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            membership = invitation_accept(raw_token=token, user=request.user)
        except TeamError as exc:
            return render(request, "teams/join.html", {"error": str(exc)}, status=410)
        team_choose(request, team=membership.team)
        return redirect("workspace:studies")
    # Say before the button whether the link still works, and which team and role it gives.
    invitation = invitation_for_token(raw_token=token)
    refusal = invitation_refusal(invitation=invitation, user=request.user)
    if refusal:
        return render(request, "teams/join.html", {"error": refusal}, status=410)
    return render(request, "teams/join.html", {"invitation": invitation})
