"""The shared Dawid-Skene fit behind the results' named option (crowd-kit's EM): one fit
per study and the valid human verdicts it reads, computed by a worker and stored in
PostgreSQL (see evalhub.fits). Registered in DashboardsConfig.ready().
"""

from __future__ import annotations

from typing import Any

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.reliability import (
    DAWID_SKENE_KIND,
    fit_fingerprint,
    reliability_fit_compute,
)
from evalhub.fits.registry import FitKind, Inputs, fit_kind_register
from evalhub.studies.models import Study


def _scope(inputs: Inputs) -> str:
    return f"study={inputs['study']}"


def _fingerprint(inputs: Inputs) -> str:
    """Count and last id of the valid verdicts, and the exclusions (judgment_counts)."""
    study = Study.objects.filter(pk=inputs["study"]).first()
    return fit_fingerprint(study) if study is not None else "gone"


def _compute(inputs: Inputs) -> dict[str, Any]:
    study = Study.objects.filter(pk=inputs["study"]).first()
    fit = reliability_fit_compute(study) if study is not None else None
    return fit.as_result() if fit is not None else {}


def _done(inputs: Inputs) -> None:
    """The study's pages show the new fit on their next request."""
    study_stats_invalidate(inputs["study"])


def dawid_skene_fit_register() -> None:
    fit_kind_register(
        FitKind(
            name=DAWID_SKENE_KIND,
            scope=_scope,
            fingerprint=_fingerprint,
            compute=_compute,
            on_done=_done,
        )
    )
