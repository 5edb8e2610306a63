"""The shared fit of AlpacaEval's per-model length-controlled GLM: one per study and set of
(baseline, judge group) scopes, keyed by the target's rows and the instruction-difficulty
fit it uses, computed by a worker and stored in PostgreSQL (see evalhub.fits). At 100,000
judgments a study's 4 scopes x 11 regularised fits and the rows they read stay off the
results request. Registered in DashboardsConfig.ready().
"""

from __future__ import annotations

import hashlib

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.alpaca_lc import LC_KIND, lc_fit_compute, lc_fit_fingerprint
from evalhub.fits.registry import FitKind, Inputs, fit_kind_register


def _scope(inputs: Inputs) -> str:
    """The study and a digest of its scopes: the row's `scope` holds 300 characters, and a
    study with 4 baselines x 4 judge groups names more than that."""
    scopes = "\n".join(f"{b}|{g}" for b, g in inputs["scopes"])
    digest = hashlib.blake2b(scopes.encode(), digest_size=12).hexdigest()
    return f"study={inputs['study']}|scopes={digest}"


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
