"""The shell's team switcher: the signed-in user's teams, read only when a page draws it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from evalhub.teams.models import Role, role_allows
from evalhub.teams.selectors import memberships_of


def team_switcher(request: HttpRequest) -> dict[str, Any]:
    """The user's teams for the switcher, `can_write`: whether their role in the current
    team may change things (viewers see no buttons that they would be refused), and
    `is_owner` (owners see the team's audit log)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"can_write": False, "is_owner": False}
    return {
        "team_memberships": SimpleLazyObject(lambda: list(memberships_of(user=request.user))),
        "can_write": role_allows(membership.role, Role.RESEARCHER),
        "is_owner": membership.role == Role.OWNER,
    }
