"""SIMULATED crowd verdicts for the demo. Nobody rated these.

A newcomer's dashboards would otherwise show only the LLM judge until someone rates by
hand. These verdicts are drawn deterministically (seeded by study and item) and imported
through the real judgment importer, grouped as "simulated-crowd" and marked
`imported_from = SIMULATION_SOURCE`, so they can never be mistaken for people, and they
leave the rating pool untouched: the crowd links still serve every item to real raters."""

from __future__ import annotations

import random

from django.db import transaction

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.studies.judgment_import import JudgmentImportResult, judgments_import
from evalhub.studies.models import Item, Study

SIMULATED_GROUP = "simulated-crowd"
SIMULATION_SOURCE = "evalhub demo simulation (not real raters)"
# Shares the simulation draws from. The demo's fine-tuned tiny model writes gibberish, so
# these simulated people mostly prefer the written baselines and mostly say Fail.
PAIRWISE_SHARES = {"target": 0.2, "tie": 0.2, "baseline": 0.6}
LABEL_SHARES = {"fail": 0.6, "pass": 0.3, "excellent": 0.1}


def _draw(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()), k=1)[0]


def simulated_crowd_import(
    *, study: Study, raters_per_item: int | None = None
) -> JudgmentImportResult:
    """Import `raters_per_item` (default: the study's k) simulated verdicts per real item
    of a launched pairwise or absolute study. Running it again adds nothing."""
    k = raters_per_item or study.raters_per_item
    pairwise = study.kind == Study.Kind.PAIRWISE
    rows = []
    items = (
        Item.objects.filter(study=study, is_gold=False).order_by("id").values_list("id", flat=True)
    )
    for item_id in items:
        rng = random.Random(f"{study.slug}/{item_id}")
        for n in range(k):
            if pairwise:
                order = "target_first" if (item_id + n) % 2 == 0 else "baseline_first"
                rows.append({"item_id": item_id, "order": order,
                             "verdict": _draw(rng, PAIRWISE_SHARES)})  # fmt: skip
            else:
                rows.append({"item_id": item_id, "label": _draw(rng, LABEL_SHARES)})
    result = judgments_import(
        study=study,
        rows=list(enumerate(rows, start=1)),
        judge_group=SIMULATED_GROUP,
        imported_from=SIMULATION_SOURCE,
    )
    # Imports bulk-create (no save signals): the dashboards' cached stats go stale by hand.
    transaction.on_commit(lambda: study_stats_invalidate(study.pk))
    return result
