"""The team that owns a bench's objects in its scratch database, and its members."""

from __future__ import annotations

from typing import Any


def bench_team() -> Any:
    from evalhub.teams.models import Team

    return Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})[0]


def bench_member(user: Any) -> Any:
    """`user`, made an owner of the bench team (so its pages and API answer them)."""
    from evalhub.teams.models import Membership

    Membership.objects.get_or_create(user=user, team=bench_team(), defaults={"role": "owner"})
    return user
