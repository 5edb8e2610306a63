"""What the researcher watches while a live study runs: conversations by status, turns
answered and failed, tokens streamed and what they cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.studies.models import Study
from generation.judging.selectors import judge_price


def _tokens(key: str) -> Sum:
    return Sum(Cast(KeyTextTransform(key, "provenance"), IntegerField()))


def live_spend(*, study: Study) -> dict[str, Any]:
    """Tokens in and out of every answered turn (failed ones included, where the endpoint
    reported them), priced per endpoint model name by the price table judges use
    (generation.judging.models.JudgePrice, USD per million tokens). `cost_usd` is None
    while no model of the study has a price; `unpriced_models` names those without one."""
    rows = (
        Turn.objects.filter(conversation__study=study)
        .values(name=KeyTextTransform("model_name", "provenance"))
        .annotate(tokens_in=_tokens("prompt_tokens"), tokens_out=_tokens("completion_tokens"))
    )
    cost, priced, unpriced = Decimal(0), False, []
    tokens_in = 0
    for row in rows:
        tokens_in += row["tokens_in"] or 0
        if row["name"] is None:  # no answer yet (still streaming, or failed before one)
            continue
        price, found = judge_price(model=row["name"])
        if found:
            priced = True
            cost += price.cost(row["tokens_in"] or 0, row["tokens_out"] or 0)
        elif row["tokens_out"] or row["tokens_in"]:
            unpriced.append(row["name"])
    return {"prompt_tokens": tokens_in, "cost_usd": str(cost) if priced else None,
            "unpriced_models": sorted(unpriced)}  # fmt: skip


def live_monitor(*, study: Study) -> dict[str, Any]:
    """Counts over the study's conversations and turns. `tokens_streamed` sums the
    endpoint's own completion-token counts of every answered turn (failed ones included,
    where the endpoint reported them); the spend is live_spend's."""
    conversations = Conversation.objects.filter(study=study).aggregate(
        active=Count("id", filter=Q(status=Conversation.Status.ACTIVE)),
        finished=Count("id", filter=Q(status=Conversation.Status.FINISHED)),
        abandoned=Count("id", filter=Q(status=Conversation.Status.ABANDONED)),
    )
    turns = Turn.objects.filter(conversation__study=study).aggregate(
        answered=Count("id", filter=Q(status=Turn.Status.DONE)),
        failed=Count("id", filter=Q(status=Turn.Status.FAILED)),
        streaming=Count("id", filter=Q(status=Turn.Status.STREAMING)),
        tokens=_tokens("completion_tokens"),
    )
    return {
        "conversations_active": conversations["active"],
        "conversations_finished": conversations["finished"],
        "conversations_abandoned": conversations["abandoned"],
        "turns_answered": turns["answered"],
        "turns_failed": turns["failed"],
        "turns_streaming": turns["streaming"],
        "tokens_streamed": turns["tokens"] or 0,
        **live_spend(study=study),
    }


def is_live(study: Study) -> bool:
    return LiveStudy.objects.filter(study_id=study.pk).exists()
