"""The rater preview over every item: how many pages there are, and one page by number
(real items first, then attention checks), as a rater would see it.

A launched study reads its stored pages (one row by offset); a draft builds its items in
memory the way launch does, with nothing written."""

from __future__ import annotations

from typing import Any

from evalhub.studies.models import Study

FIELDS = ("context", "prompt_html", "target_html", "baseline_html", "turns")


def _draft_pages(study: Study) -> list[dict[str, Any]]:
    from evalhub.studies.services import study_items_build

    pairwise = study.kind == Study.Kind.PAIRWISE
    baselines = list(study.baselines.order_by("slug")) if pairwise else []
    prompts = list(study.prompt_set.prompts.order_by("position", "id"))
    built, _, _ = study_items_build(study, prompts, baselines)
    ordered = [p for i, p in built if not i.is_gold] + [p for i, p in built if i.is_gold]
    return [{f: page.get(f, [] if f in ("context", "turns") else "") for f in FIELDS}
            for page in ordered]  # fmt: skip


def _stored(study: Study) -> Any:
    from evalhub.rating.models import ItemPage

    return ItemPage.objects.filter(study=study).order_by("is_gold", "item_id")


def study_preview_count(*, study: Study) -> int:
    if study.status == Study.Status.DRAFT:
        return len(_draft_pages(study))
    return _stored(study).count()


def study_preview_page(*, study: Study, number: int) -> dict[str, Any] | None:
    """Page `number` (1-based), or None past the end."""
    if number < 1:
        return None
    if study.status == Study.Status.DRAFT:
        pages = _draft_pages(study)
        return pages[number - 1] if number <= len(pages) else None
    return _stored(study).values(*FIELDS)[number - 1 : number].first()
