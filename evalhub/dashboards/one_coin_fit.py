"""The shared one-coin fit behind the raters' spam test and reliability and the default
reliability-weighted aggregate: one per study and fingerprint of what it reads (the valid
human verdicts, the study's quality rules and gold prompts), computed by a worker and
stored in PostgreSQL (see evalhub.fits). Registered in DashboardsConfig.ready().
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.crowd_fit import (
    ONE_COIN_KIND,
    crowd_fit_result,
    valid_verdicts,
)
from evalhub.dashboards.selectors.crowd_quality import crowd_fit_compute, quality_rules
from evalhub.dashboards.selectors.reliability import fit_fingerprint
from evalhub.fits.registry import FitKind, Inputs, fit_kind_register
from evalhub.studies.models import GoldPrompt, Study


def _scope(inputs: Inputs) -> str:
    return f"study={inputs['study']}"


def _fingerprint(inputs: Inputs) -> str:
    """The verdicts (judgment_counts: count, last id, id sum, exclusions), and the rules
    and gold prompts the flags, hence the aggregate's fit, depend on: three small reads."""
    study = Study.objects.filter(pk=inputs["study"]).only("pk", "kind", "quality_rules").first()
    if study is None:
        return "gone"
    gold = list(
        GoldPrompt.objects.filter(study=study)
        .order_by("prompt_id")
        .values_list("prompt_id", "expected")
    )
    # Only the flags' rules: a bonus rule changes no fit.
    rules = json.dumps([quality_rules(study), gold], sort_keys=True, default=str)
    return f"{fit_fingerprint(study)}:{hashlib.blake2b(rules.encode(), digest_size=12).hexdigest()}"


def _compute(inputs: Inputs) -> dict[str, Any]:
    study = Study.objects.filter(pk=inputs["study"]).first()
    if study is None:
        return {}
    data = valid_verdicts(study)
    return crowd_fit_result(study, data, crowd_fit_compute(study, data))


def _done(inputs: Inputs) -> None:
    """The study's pages show the new fit on their next request."""
    study_stats_invalidate(inputs["study"])


def one_coin_fit_register() -> None:
    fit_kind_register(
        FitKind(
            name=ONE_COIN_KIND,
            scope=_scope,
            fingerprint=_fingerprint,
            compute=_compute,
            on_done=_done,
        )
    )
