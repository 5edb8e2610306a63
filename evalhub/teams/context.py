"""The shell's team switcher: the signed-in user's teams, read only when a page draws it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from evalhub.teams.selectors import memberships_of


def team_switcher(request: HttpRequest) -> dict[str, Any]:
    if getattr(request, "membership", None) is None:
        return {}
    return {"team_memberships": SimpleLazyObject(lambda: list(memberships_of(user=request.user)))}
