"""Reads for studies: the export rows of judgments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evalhub.studies.models import Judgment, Study

EXPORT_FIELDS = [
    "judgment_id", "study", "item_id", "prompt_id", "prompt_external_id", "category",
    "judge_group", "rater_id", "judge", "target_model", "baseline_model", "order",
    "target_side", "raw_choice", "verdict", "score", "turn_labels", "comment",
    "time_on_task_ms", "too_fast", "is_attention_check", "parse_state", "tokens_in",
    "tokens_out", "cost_usd", "created_at", "instrument", "instrument_version",
]  # fmt: skip


def judgments_export_rows(*, study: Study | None = None) -> Iterator[dict[str, Any]]:
    """One flat dict per judgment (fields EXPORT_FIELDS), streamed in id order."""
    qs = Judgment.objects.select_related(
        "item__study__instrument",
        "item__prompt",
        "item__target_output__model",
        "item__baseline_output__model",
        "assignment",
        "judge",
    ).order_by("id")
    if study is not None:
        qs = qs.filter(item__study=study)
    for j in qs.iterator(chunk_size=2000):
        item = j.item
        target = item.target_output
        baseline = item.baseline_output
        yield {
            "judgment_id": j.pk,
            "study": item.study.slug,
            "item_id": item.pk,
            "prompt_id": item.prompt_id,
            "prompt_external_id": item.prompt.external_id,
            "category": item.prompt.category,
            "judge_group": j.judge_group,
            "rater_id": j.rater_id,
            "judge": j.judge.slug if j.judge else "",
            "target_model": target.model.slug if target else "",
            "baseline_model": baseline.model.slug if baseline else "",
            "order": j.order,
            "target_side": j.assignment.target_side if j.assignment else "",
            "raw_choice": j.raw_choice,
            "verdict": j.verdict,
            "score": j.score,
            "turn_labels": j.turn_labels,
            "comment": j.comment,
            "time_on_task_ms": j.time_on_task_ms,
            "too_fast": j.too_fast,
            "is_attention_check": j.is_attention_check,
            "parse_state": j.parse_state,
            "tokens_in": j.tokens_in,
            "tokens_out": j.tokens_out,
            "cost_usd": str(j.cost_usd) if j.cost_usd is not None else None,
            "created_at": j.created_at.isoformat(),
            # What the judgment answered: the study's instrument version (frozen at launch).
            "instrument": instrument.slug if (instrument := item.study.instrument) else "",
            "instrument_version": instrument.version if instrument else None,
        }
