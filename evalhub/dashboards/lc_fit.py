"""The shared fit of AlpacaEval's per-model length-controlled GLM: one per study and set of
(baseline, judge group) scopes, keyed by the target's rows and the instruction-difficulty
fit it uses, computed by a worker and stored in PostgreSQL (see evalhub.fits). At 100,000
judgments a study's 4 scopes x 11 regularised fits and the rows they read stay off the
results request. Registered in DashboardsConfig.ready().
"""

from __future__ import annotations

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.alpaca_lc import LC_KIND, lc_fit_compute, lc_fit_fingerprint
from evalhub.fits.registry import FitKind, Inputs, fit_kind_register


def _scope(inputs: Inputs) -> str:
    scopes = ";".join(f"{b}|{g}" for b, g in inputs["scopes"])
    return f"study={inputs['study']}|scopes={scopes}"


def _done(inputs: Inputs) -> None:
    """The study's pages show the new fit on their next request."""
    study_stats_invalidate(inputs["study"])


def lc_fit_register() -> None:
    fit_kind_register(
        FitKind(
            name=LC_KIND,
            scope=_scope,
            fingerprint=lc_fit_fingerprint,
            compute=lc_fit_compute,
            on_done=_done,
        )
    )
