"""What the researcher watches while a live study runs: conversations by status, turns
answered and failed, tokens streamed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.studies.models import Study


def live_monitor(*, study: Study) -> dict[str, Any]:
    """Counts over the study's conversations and turns. `tokens_streamed` sums the
    endpoint's own completion-token counts of every answered turn (failed ones included,
    where the endpoint reported them)."""
    conversations = Conversation.objects.filter(study=study).aggregate(
        active=Count("id", filter=Q(status=Conversation.Status.ACTIVE)),
        finished=Count("id", filter=Q(status=Conversation.Status.FINISHED)),
        abandoned=Count("id", filter=Q(status=Conversation.Status.ABANDONED)),
    )
    turns = Turn.objects.filter(conversation__study=study).aggregate(
        answered=Count("id", filter=Q(status=Turn.Status.DONE)),
        failed=Count("id", filter=Q(status=Turn.Status.FAILED)),
        streaming=Count("id", filter=Q(status=Turn.Status.STREAMING)),
        tokens=Sum(Cast(KeyTextTransform("completion_tokens", "provenance"), IntegerField())),
    )
    return {
        "conversations_active": conversations["active"],
        "conversations_finished": conversations["finished"],
        "conversations_abandoned": conversations["abandoned"],
        "turns_answered": turns["answered"],
        "turns_failed": turns["failed"],
        "turns_streaming": turns["streaming"],
        "tokens_streamed": turns["tokens"] or 0,
    }


def is_live(study: Study) -> bool:
    return LiveStudy.objects.filter(study_id=study.pk).exists()
