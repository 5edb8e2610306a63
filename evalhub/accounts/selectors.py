"""Reads for accounts: a researcher's API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from evalhub.teams.models import Team


def api_tokens_of(*, user: AbstractBaseUser, team: Team) -> QuerySet[AuthToken]:
    """The user's tokens in `team` that still work (not expired), newest first."""
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return AuthToken.objects.filter(live, user=user, team_binding__team=team).order_by("-created")
