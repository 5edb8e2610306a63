"""Who may call the API: members of a team. A token works in its own team with its user's
role there (read on every request); a session works in the session's current team.
Viewers read only; an operation on another team's object is a 404 for every role, viewers
too (the object is resolved within the team before the role is checked)."""

from __future__ import annotations

from typing import Any

from knox.models import AuthToken
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from evalhub.api.scopes import TEAM_SCOPES
from evalhub.teams.models import Membership, Role, role_allows
from evalhub.teams.selectors import membership_of_token


def api_membership(request: Request) -> Membership | None:
    if isinstance(request.auth, AuthToken):
        return membership_of_token(token=request.auth)
    return getattr(request._request, "membership", None)


class IsTeamMember(BasePermission):
    """Anonymous callers get 401 (from the authenticator's challenge), callers in no team
    (raters, or a member removed since the token was made) 403, viewers 403 on any write.
    Sets request.membership and request.team for the view."""

    message = "This API is for members of a team; this account or token has none."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = api_membership(request) if request.user.is_authenticated else None
        request.membership = membership
        request.team = membership.team if membership else None
        if membership is None:
            return False
        if request.method not in SAFE_METHODS and not role_allows(membership.role, Role.RESEARCHER):
            _not_another_teams(request, membership)
            raise PermissionDenied(f"A viewer in {membership.team.name} can read, not change.")
        return True


def _not_another_teams(request: Request, membership: Membership) -> None:
    """404 when the URL names an object (evalhub.api.scopes.TEAM_SCOPES) that is not the
    team's: the answer for another team's object never depends on the caller's role."""
    match = request._request.resolver_match
    scope = TEAM_SCOPES.get(match.url_name) if match is not None else None
    if scope is not None and not scope.holds(team=membership.team, url_kwargs=match.kwargs):
        raise NotFound(f"No such {scope.kind}.")


class DocumentedQueryOnly(BasePermission):
    """Query parameters are checked against the operation's schema before the view runs:
    one the schema does not name, an empty or repeated one, or a value of the wrong type or
    out of range is a 400 naming the parameter. Every API view gets this from
    REST_FRAMEWORK's default permissions, so a new endpoint inherits it."""

    def has_permission(self, request: Request, view: Any) -> bool:
        from evalhub.api.contract import query_problems  # the schema, built once per process

        problems = query_problems(request)
        if problems:
            raise ValidationError(problems)
        return True
