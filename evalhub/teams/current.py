"""The current team of a request: the team chosen in the session (the user's first team
until they choose), with the member's role there, read from the database on every request
so that a removal or a role change counts at once. API tokens carry their own team
(evalhub.api.permissions)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from evalhub.rating.middleware import CROWD_PAGES
from evalhub.teams.models import Membership, Team
from evalhub.teams.selectors import membership_in, memberships_of

SESSION_KEY = "team_id"


def session_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    membership = membership_in(user=user, team_id=request.session.get(SESSION_KEY))
    if membership is None:
        membership = memberships_of(user=user).first()
        if membership is not None:
            request.session[SESSION_KEY] = membership.team_id
    return membership


def team_choose(request: HttpRequest, *, team: Team) -> None:
    """Make `team` the session's current team (the caller checked the membership)."""
    request.session[SESSION_KEY] = team.pk


class CurrentTeamMiddleware:
    """Sets request.membership and request.team (None when logged out or in no team).
    Crowd pages are passed straight on: raters never belong to teams, and the hot path
    gains no query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(CROWD_PAGES):
            return self.get_response(request)
        membership = session_membership(request)
        request.membership = membership
        request.team = membership.team if membership else None
        return self.get_response(request)
