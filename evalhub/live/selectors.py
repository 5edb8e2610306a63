"""Reads for live studies: the rater's chat page state, and the researcher's export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.rating.models import RaterSession
from evalhub.studies.models import Study


def live_study_for_entry(*, crowd_code: str) -> LiveStudy | None:
    """The live study its public links name (by the study's crowd code, never its slug)."""
    return LiveStudy.objects.select_related("study").filter(study__crowd_code=crowd_code).first()


def session_for_cookie(*, token: str, crowd_code: str) -> RaterSession | None:
    return (
        RaterSession.objects.select_related("study", "rater", "study__live")
        .filter(token=token, study__crowd_code=crowd_code)
        .first()
    )


def chat_state(conversation: Conversation) -> dict[str, Any]:
    """What the chat page shows of a conversation so far: its answered turns, sanitised,
    by side; no model name or id."""
    live = conversation.study.live
    turns = list(conversation.turns.filter(status=Turn.Status.DONE).order_by("index", "side"))
    rounds: dict[int, dict[str, Any]] = {}
    for turn in turns:
        shown = rounds.setdefault(
            turn.index,
            {"index": turn.index, "user_html": render_untrusted_markdown(turn.user_text),
             "label": turn.label, "sides": {}},
        )  # fmt: skip
        shown["sides"][turn.side] = render_untrusted_markdown(turn.assistant_text)
    ordered = [rounds[i] for i in sorted(rounds)]
    return {
        "mode": conversation.mode,
        "max_turns": live.max_turns,
        "rounds": ordered,
        "answered": len(ordered),
        "needs_label": conversation.mode == LiveStudy.Mode.CONVERSATION
        and any(not r["label"] for r in ordered),
    }


def conversations_export(study: Study) -> Iterator[dict[str, Any]]:
    """Every conversation of a live study, failed turns included, as JSON-able rows for the
    researcher (model slugs included: this is not a rater's view)."""
    rows = (
        Conversation.objects.filter(study=study)
        .select_related("left", "right", "item__prompt")
        .prefetch_related("turns")
        .order_by("id")
    )
    for conversation in rows:
        yield {
            "conversation": conversation.token,
            "mode": conversation.mode,
            "status": conversation.status,
            "session": conversation.session_id,
            "left_model": conversation.left.slug,
            "right_model": conversation.right.slug if conversation.right else None,
            "vote": conversation.vote,
            "prompt_id": conversation.item.prompt.external_id if conversation.item else None,
            "created_at": conversation.created_at.isoformat(),
            "turns": [
                {"index": t.index, "side": t.side, "status": t.status, "user": t.user_text,
                 "assistant": t.assistant_text, "label": t.label, "error": t.error,
                 "provenance": t.provenance}
                for t in conversation.turns.all()
            ],
        }  # fmt: skip


def study_models(study: Study) -> list[ModelEntry]:
    """The study's models in its order: target, then baselines by slug."""
    return [study.target_model, *study.baselines.order_by("slug")]
