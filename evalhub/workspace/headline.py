"""The study page's headline: win / tie / loss per baseline and judge group, counts beside
percentages ("31 / 4 / 40 (41% / 5% / 53%)"), each count a link to the rows it counts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from evalhub.dashboards.selectors import study_results
from evalhub.dashboards.selectors.frames import LLM_PREFIX
from evalhub.studies.models import Study


@dataclass(frozen=True)
class HeadlineCount:
    label: str  # "wins", "ties", "losses", from the target's side
    count: int
    share: float
    url: str


@dataclass(frozen=True)
class HeadlineRow:
    baseline: str
    judge_group: str
    counts: tuple[HeadlineCount, HeadlineCount, HeadlineCount]
    n_judgments: int

    @property
    def text(self) -> str:
        counts = " / ".join(str(c.count) for c in self.counts)
        shares = " / ".join(f"{100 * c.share:.0f}%" for c in self.counts)
        return f"{counts} ({shares})"


def counted_rows_url(
    *,
    study: Study,
    baseline: str,
    judge_group: str,
    verdict: str,
    category: str = "",
    model: str = "",
) -> str:
    """The list whose rows are exactly the count of (baseline or rated model, judge group,
    verdict) in the results: judgments, except a pairwise LLM group's, whose two orders
    count once per item, so its items (see item_selectors.study_items). verdict="any": the
    row's total (every verdict it counts)."""
    per_item = study.kind == Study.Kind.PAIRWISE and judge_group.startswith(LLM_PREFIX)
    if verdict == "any" and not per_item:
        verdict = ""
    query = {"baseline": baseline, "judge_group": judge_group, "verdict": verdict,
             "counted": "yes", "category": category, "model": model}  # fmt: skip
    name = "study_items" if per_item else "study_judgments"
    base = reverse(f"workspace:{name}", args=[study.slug])
    return f"{base}?{urlencode({k: v for k, v in query.items() if v})}"


def study_headline(*, study: Study) -> list[HeadlineRow]:
    """Pairwise studies only (empty otherwise); rows as the dashboard has them."""
    if study.kind != Study.Kind.PAIRWISE:
        return []
    rows = []
    for r in study_results(study).get("pairwise") or []:

        def link(verdict: str, r: dict = r) -> str:
            return counted_rows_url(study=study, baseline=r["baseline"],
                                    judge_group=r["judge_group"], verdict=verdict)  # fmt: skip

        counts = (
            HeadlineCount("wins", r["wins"], r["win_share"], link("target")),
            HeadlineCount("ties", r["ties"], r["tie_share"], link("tie")),
            HeadlineCount("losses", r["losses"], r["loss_share"], link("baseline")),
        )
        rows.append(HeadlineRow(r["baseline"], r["judge_group"], counts, r["n_judgments"]))
    return sorted(rows, key=lambda row: (row.baseline, row.judge_group))
