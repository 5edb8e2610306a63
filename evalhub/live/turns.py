"""Writes for a live turn: check the rater's message and open the turn (one streaming row
per side), then finish or fail it when the stream ends."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from evalhub.live import moderation
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.outputs.models import ModelEntry
from evalhub.rating.limits import over_limit

# Sampling for live turns when the model entry sets none: LIMA's decoding, shorter answers
# (a rater waits for each one).
LIVE_MAX_TOKENS = 512
STALE_STREAM = timedelta(minutes=10)


@dataclass(frozen=True)
class ModelSpec:
    """What the streaming code needs to call one model; never sent to the browser."""

    model_id: int
    slug: str
    base_url: str
    model_name: str
    api_key_env: str
    sampling: dict[str, Any]
    concurrency: int


@dataclass(frozen=True)
class OpenedTurn:
    """One side of an opened turn: its row, its model and the messages to send."""

    turn_id: int
    side: str
    spec: ModelSpec
    messages: list[dict[str, str]]
    seed: int


def model_spec(model: ModelEntry, limits: dict[str, Any]) -> ModelSpec:
    """How a live turn calls `model`: its endpoint, its sampling capped by the study's
    `limits` (model_limits), its concurrency cap."""
    from generation.sampling import sampling_from

    config = dict(model.generation_config or {})
    sampling = sampling_from(("LIMA defaults for live turns", {"max_tokens": LIVE_MAX_TOKENS}),
                             (f"model {model.slug} generation_config", config))  # fmt: skip
    own = limits.get(model.slug, {})
    values = sampling.as_dict()
    if own.get("max_tokens"):
        values["max_tokens"] = min(values["max_tokens"], int(own["max_tokens"]))
    return ModelSpec(
        model_id=model.pk, slug=model.slug, base_url=model.base_url,
        model_name=model.model_path, api_key_env=model.api_key_env, sampling=values,
        concurrency=int(own.get("concurrency") or 0),
    )  # fmt: skip


def prompt_checked(live: LiveStudy, text: str) -> str:
    """The rater's message as sent on, or LiveInputError: empty, too long or refused by
    the study's moderation (blocklist, judge)."""
    text = text.replace("\x00", "").strip()
    if not text:
        raise LiveInputError("Please write a message first.")
    if len(text) > live.max_prompt_chars:
        raise LiveInputError(
            f"Your message is {len(text):,} characters long; the limit is "
            f"{live.max_prompt_chars:,}. Please shorten it.",
            status=413,
        )
    refusal = moderation.refusal(text, blocklist=live.blocklist, judge=live.moderation_judge)
    if refusal:
        raise LiveInputError(refusal, status=422)
    return text


# The conversation's turns that count (not failed), as JSON rows beside its own row.
_ROW = JSONObject(
    id="id", index="index", side="side", user_text="user_text",
    assistant_text="assistant_text", status="status", label="label", started_at="started_at",
)  # fmt: skip
_history = (
    Turn.objects.filter(conversation=OuterRef("pk"))
    .exclude(status=Turn.Status.FAILED)
    .order_by("index", "side", "id")
    .values(row=_ROW)
)


def _turn(row: dict[str, Any], conversation: Conversation) -> Turn:
    started_at = parse_datetime(row.pop("started_at"))
    return Turn(conversation=conversation, started_at=started_at, **row)


@transaction.atomic
def turn_open(*, session_token: str, slug: str, token: str, text: str) -> list[OpenedTurn]:
    """Check the rater's message and open the next turn: one streaming Turn row per side.
    The rater is named by their session cookie in study `slug`. Refuses (LiveInputError)
    an unknown or finished session, a message that is empty, too long, blocked or over
    the session's rate, a turn while one streams or is unlabelled, and one past max_turns.
    It stands between the rater and the first token: the conversation, its session and
    its turns are read in one statement, and the new rows written in one more."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("session", "left", "right", "study__live")
        .annotate(history=ArraySubquery(_history))  # session and history: one round trip
        .filter(token=token, session__token=session_token, study__slug=slug)
        .first()
    )
    if conversation is None or conversation.session.is_finished:
        raise LiveInputError("We could not find your session. Please reload the page.", 403)
    if conversation.status != Conversation.Status.ACTIVE:
        raise LiveInputError("This conversation is over. Please reload the page.", status=409)
    live = conversation.study.live
    if over_limit(f"live:{session_token}", limit=live.messages_per_minute):
        raise LiveInputError("That was very fast. Please wait a moment before sending.", 429)
    text = prompt_checked(live, text)
    turns = [_turn(row, conversation) for row in conversation.history]
    streaming = [t for t in turns if t.status == Turn.Status.STREAMING]
    # A turn still "streaming" long after any answer could take lost its web process.
    stale = [t.pk for t in streaming if t.started_at < timezone.now() - STALE_STREAM]
    if stale:
        Turn.objects.filter(pk__in=stale).update(
            status=Turn.Status.FAILED, error="no outcome: its web process stopped"
        )
        turns = [t for t in turns if t.pk not in stale]
    if len(stale) < len(streaming):
        raise LiveInputError("Please wait for the answer to finish.", status=409)
    done = sorted({t.index for t in turns})
    if live.mode == LiveStudy.Mode.CONVERSATION and any(not t.label for t in turns):
        raise LiveInputError("Please rate the last answer before sending a new message.", 409)
    if len(done) >= live.max_turns:
        raise LiveInputError(
            f"This conversation has reached its limit of {live.max_turns} messages.", 409
        )
    sides = [("A", conversation.left)]
    if conversation.right is not None:
        sides.append(("B", conversation.right))
    rows = Turn.objects.bulk_create(
        [Turn(conversation=conversation, index=len(done), side=side, user_text=text)
         for side, _ in sides]
    )  # fmt: skip
    opened = []
    for row, (side, model) in zip(rows, sides, strict=True):
        history: list[dict[str, str]] = []
        for turn in turns:
            if turn.side == side:
                history += [{"role": "user", "content": turn.user_text},
                            {"role": "assistant", "content": turn.assistant_text}]  # fmt: skip
        messages = [*history, {"role": "user", "content": text}]
        spec = model_spec(model, live.model_limits or {})
        opened.append(OpenedTurn(row.pk, side, spec, messages, secrets.randbelow(2**31)))
    return opened


def turn_finish(*, turn_id: int, text: str, provenance: dict[str, Any]) -> None:
    """A turn's answer arrived whole."""
    Turn.objects.filter(pk=turn_id, status=Turn.Status.STREAMING).update(
        status=Turn.Status.DONE, assistant_text=text, provenance=provenance,
        finished_at=timezone.now(),
    )  # fmt: skip


@transaction.atomic
def turns_finish(*, results: dict[int, tuple[str, dict[str, Any]]]) -> None:
    """Every side of a turn arrived whole: {turn id: (text, provenance)}."""
    for turn_id, (text, provenance) in results.items():
        turn_finish(turn_id=turn_id, text=text, provenance=provenance)


@transaction.atomic
def turn_fail(*, turn_ids: list[int], error: str, texts: dict[int, str],
              provenance: dict[int, dict[str, Any]]) -> None:  # fmt: skip
    """The turn failed (an endpoint broke, or the rater left): every side of it is kept as
    failed, with what had arrived, and counts toward nothing; the rater may retry."""
    for turn_id in turn_ids:
        Turn.objects.filter(pk=turn_id).exclude(status=Turn.Status.FAILED).update(
            status=Turn.Status.FAILED, error=error[:2000], assistant_text=texts.get(turn_id, ""),
            provenance=provenance.get(turn_id, {}), finished_at=timezone.now(),
        )  # fmt: skip
