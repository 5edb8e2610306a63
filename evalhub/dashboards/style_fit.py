"""The shared style-control fit behind the leaderboards' style-controlled Bradley-Terry.

A bootstrap of 100 contextual BT fits is seconds to minutes at Arena scale, so it is never
fitted in a request: one fit per (study or all studies, judge groups) and the counted
judgments it reads, computed by a worker and stored in PostgreSQL (see evalhub.fits).
Registered in DashboardsConfig.ready().
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, Sum

from evalhub.dashboards.selectors.frames import PAIRWISE_CODES, counted_judgments
from evalhub.dashboards.selectors.style_control import STYLE_KIND, style_board, style_where
from evalhub.fits.registry import FitKind, Inputs, fit_kind_register
from evalhub.studies.models import Judgment


def _scope(inputs: Inputs) -> str:
    groups = ",".join(inputs.get("groups") or []) or "*"
    return f"study={inputs.get('study') or '*'}|groups={groups}"


def _fingerprint(inputs: Inputs) -> str:
    """Count, id sum and last id of the counted pairwise judgments the fit reads: a new
    judgment or an exclusion changes it."""
    found = Judgment.objects.filter(
        counted_judgments(style_where(inputs)) & Q(verdict__in=PAIRWISE_CODES)
    ).aggregate(n=Count("id"), total=Sum("id"), last=Max("id"))
    return f"{found['n']}:{found['total']}:{found['last']}"


def _compute(inputs: Inputs) -> dict[str, Any]:
    return {"board": style_board(style_where(inputs))}


def style_fit_register() -> None:
    fit_kind_register(
        FitKind(name=STYLE_KIND, scope=_scope, fingerprint=_fingerprint, compute=_compute)
    )
