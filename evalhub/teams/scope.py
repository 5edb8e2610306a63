"""Which team object a URL names, so that the gates resolve it within the caller's team
before they check the role: another team's object is a 404 for every role (as one that
does not exist), and only an object of the caller's own team can answer 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from evalhub.teams.models import Team


@dataclass(frozen=True)
class TeamScope:
    """`objects`: a selector taking `team=` (the team's objects of one kind); the URL's
    keyword argument `kwarg` names one of them by `field`."""

    objects: Callable[..., QuerySet]
    kind: str
    kwarg: str = "slug"
    field: str = "slug"

    def holds(self, *, team: Team, url_kwargs: dict[str, Any]) -> bool:
        """Whether the object the URL names is `team`'s (False when there is none)."""
        value = url_kwargs.get(self.kwarg)
        if value is None:
            return False
        return self.objects(team=team).filter(**{self.field: value}).exists()
