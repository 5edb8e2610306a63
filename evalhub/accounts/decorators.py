"""The gates in front of every researcher page: a member of the current team, with the role
the page needs for what it does."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from evalhub.teams.models import Role, role_allows

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _gate(
    view: Callable[..., HttpResponse], *, write_role: str, read_role: str
) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = getattr(request, "membership", None)
        if membership is None:
            raise PermissionDenied("This page is for members of a team; you belong to none.")
        needed = read_role if request.method in SAFE_METHODS else write_role
        if not role_allows(membership.role, needed):
            raise PermissionDenied(f"This needs the {needed} role in {membership.team.name}.")
        return view(request, *args, **kwargs)

    return wrapped


def researcher_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any member reads; writes (any POST) need the researcher role. Anonymous users go to
    the login page; users in no team (raters) get 403."""
    return _gate(view, write_role=Role.RESEARCHER, read_role=Role.VIEWER)


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any member of the current team, for reads and for their own things (their tokens,
    the team switcher)."""
    return _gate(view, write_role=Role.VIEWER, read_role=Role.VIEWER)


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Members, roles, tokens and the audit log: owners only."""
    return _gate(view, write_role=Role.OWNER, read_role=Role.OWNER)
