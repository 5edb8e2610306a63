"""The gates in front of every researcher page: a member of the current team, with the role
the page needs for what it does. A page about one object of a team names its `scope`: the
gate resolves the object within the current team first, so another team's object is a 404
for every role, and only then refuses a write the role does not allow (403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from evalhub.teams.models import Role, role_allows
from evalhub.teams.scope import TeamScope

View = Callable[..., HttpResponse]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _gate(view: View, *, write_role: str, read_role: str, scope: TeamScope | None) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = getattr(request, "membership", None)
        if membership is None:
            raise PermissionDenied("This page is for members of a team; you belong to none.")
        needed = read_role if request.method in SAFE_METHODS else write_role
        if not role_allows(membership.role, needed):
            if scope is not None and not scope.holds(team=membership.team, url_kwargs=kwargs):
                raise Http404(f"No such {scope.kind}.")
            raise PermissionDenied(f"This needs the {needed} role in {membership.team.name}.")
        return view(request, *args, **kwargs)

    return wrapped


def _gate_factory(*, write_role: str, read_role: str):
    def decorator(view: View | None = None, *, scope: TeamScope | None = None):
        if view is None:  # used as @researcher_required(scope=...)
            return lambda v: _gate(v, write_role=write_role, read_role=read_role, scope=scope)
        return _gate(view, write_role=write_role, read_role=read_role, scope=scope)

    return decorator


# Any member reads; writes (any POST) need the researcher role. Anonymous users go to the
# login page; users in no team (raters) get 403.
researcher_required = _gate_factory(write_role=Role.RESEARCHER, read_role=Role.VIEWER)
# Any member of the current team, for reads and for their own things (their tokens, the
# team switcher).
member_required = _gate_factory(write_role=Role.VIEWER, read_role=Role.VIEWER)
# Members, roles, tokens and the audit log: owners only.
owner_required = _gate_factory(write_role=Role.OWNER, read_role=Role.OWNER)
