"""Writes for a live turn: check the rater's message and open the turn (one streaming row
per side), then finish or fail it when the stream ends."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from evalhub.live import moderation
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.outputs.models import ModelEntry
from evalhub.rating.limits import event_count

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


# Everything opening a turn needs, in one statement and one round trip: the conversation
# (named by its token, the rater's session cookie and the study's slug), its session's state,
# the study's live settings, its models and the turns that count (not failed), as one JSON
# text (parsed once, the same way through Django's cursor and the live path's own pool).
STATE_SQL = """
SELECT json_build_object(
  'conversation', c.id, 'status', c.status, 'session_active', s.status = 'active',
  'mode', l.mode, 'max_turns', l.max_turns, 'max_prompt_chars', l.max_prompt_chars,
  'messages_per_minute', l.messages_per_minute, 'blocklist', l.blocklist,
  'moderation_judge', l.moderation_judge_id, 'model_limits', l.model_limits,
  'models', (SELECT json_agg(json_build_object(
                'side', x.side, 'id', m.id, 'slug', m.slug, 'base_url', m.base_url,
                'model_path', m.model_path, 'api_key_env', m.api_key_env,
                'generation_config', m.generation_config) ORDER BY x.side)
             FROM (VALUES ('A', c.left_id), ('B', c.right_id)) AS x (side, id)
             JOIN outputs_modelentry m ON m.id = x.id),
  'turns', (SELECT coalesce(json_agg(json_build_object(
                'id', t.id, 'index', t.index, 'side', t.side, 'user_text', t.user_text,
                'assistant_text', t.assistant_text, 'status', t.status, 'label', t.label,
                'stale', t.status = 'streaming'
                         AND t.started_at < now() - make_interval(secs => %(stale_s)s))
              ORDER BY t.index, t.side, t.id), '[]')
            FROM live_turn t WHERE t.conversation_id = c.id AND t.status <> 'failed')
)::text
FROM live_conversation c
JOIN rating_ratersession s ON s.id = c.session_id
JOIN studies_study st ON st.id = c.study_id
JOIN live_livestudy l ON l.study_id = c.study_id
WHERE c.token = %(token)s AND s.token = %(session_token)s AND st.crowd_code = %(crowd_code)s
"""
STATE_PARAMS_STALE_S = STALE_STREAM.total_seconds()
# A turn that lost its web process (still "streaming" long after any answer could take).
STALE_SQL = (
    "UPDATE live_turn SET status = 'failed', error = 'no outcome: its web process stopped' "
    "WHERE id = ANY(%(ids)s) AND status = 'streaming'"
)
# One streaming row per side. The unique index live_turn_one_per_side (conversation, index,
# side; failed turns aside) refuses a second send that raced this one past the checks.
OPEN_SQL = """
INSERT INTO live_turn (conversation_id, "index", side, user_text, assistant_text, status,
                       error, label, provenance, started_at)
SELECT %(conversation)s, %(index)s, side, %(text)s, '', 'streaming', '', '', '{}', now()
FROM unnest(%(sides)s::text[]) WITH ORDINALITY AS x (side, n) ORDER BY n
RETURNING id
"""
ANSWER_RUNNING = "Please wait for the answer to finish."


@dataclass(frozen=True)
class TurnPlan:
    """A checked message and what opening its turn writes and sends, from STATE_SQL's row.
    `sides` hold no turn id yet: the rows are written while the models start."""

    conversation_id: int
    index: int
    text: str
    stale: list[int]
    sides: list[OpenedTurn]

    def opened(self, turn_ids: list[int]) -> list[OpenedTurn]:
        return [replace(side, turn_id=turn_id)
                for side, turn_id in zip(self.sides, turn_ids, strict=True)]  # fmt: skip


def state_params(*, session_token: str, crowd_code: str, token: str) -> dict[str, Any]:
    return {"session_token": session_token, "crowd_code": crowd_code, "token": token,
            "stale_s": STATE_PARAMS_STALE_S}  # fmt: skip


def live_settings(state: dict[str, Any]) -> LiveStudy:
    """The study's live settings from STATE_SQL's row (unsaved: prompt_checked reads them;
    its moderation judge is read from the database only when one is set)."""
    fields = ("mode", "max_turns", "max_prompt_chars", "messages_per_minute", "blocklist",
              "model_limits")  # fmt: skip
    return LiveStudy(moderation_judge_id=state["moderation_judge"],
                     **{f: state[f] for f in fields})  # fmt: skip


def rate_key(session_token: str) -> str:
    return f"live:{session_token}"


def session_checked(state: dict[str, Any] | None, *, sent: int | None) -> dict[str, Any]:
    """Refuses (LiveInputError) an unknown or finished session, an ended conversation and
    a session over its message rate: `sent` is this minute's messages with this one
    (event_count of rate_key; None while Redis is down, which limits nobody)."""
    if state is None or not state["session_active"]:
        raise LiveInputError("We could not find your session. Please reload the page.", 403)
    if state["status"] != Conversation.Status.ACTIVE:
        raise LiveInputError("This conversation is over. Please reload the page.", status=409)
    limit = state["messages_per_minute"]
    if sent is not None and 0 < limit < sent:
        raise LiveInputError("That was very fast. Please wait a moment before sending.", 429)
    return state


def turn_plan(state: dict[str, Any], text: str) -> TurnPlan:
    """The next turn of a checked session (session_checked) for the checked message `text`
    (prompt_checked): refuses a turn while one streams or is unlabelled, and one past
    max_turns. Pure: reads only `state`."""
    live = live_settings(state)
    turns = state["turns"]
    stale = [t["id"] for t in turns if t["stale"]]
    if any(t["status"] == Turn.Status.STREAMING and not t["stale"] for t in turns):
        raise LiveInputError(ANSWER_RUNNING, status=409)
    turns = [t for t in turns if not t["stale"]]
    done = {t["index"] for t in turns}
    if live.mode == LiveStudy.Mode.CONVERSATION and any(not t["label"] for t in turns):
        raise LiveInputError("Please rate the last answer before sending a new message.", 409)
    if len(done) >= live.max_turns:
        raise LiveInputError(
            f"This conversation has reached its limit of {live.max_turns} messages.", 409
        )
    sides = []
    for model in state["models"]:
        side = model.pop("side")
        history: list[dict[str, str]] = []
        for turn in turns:
            if turn["side"] == side:
                history += [{"role": "user", "content": turn["user_text"]},
                            {"role": "assistant", "content": turn["assistant_text"]}]  # fmt: skip
        messages = [*history, {"role": "user", "content": text}]
        spec = model_spec(ModelEntry(pk=model.pop("id"), **model), live.model_limits or {})
        sides.append(OpenedTurn(0, side, spec, messages, secrets.randbelow(2**31)))
    return TurnPlan(state["conversation"], len(done), text, stale, sides)


def open_params(plan: TurnPlan) -> dict[str, Any]:
    return {"conversation": plan.conversation_id, "index": plan.index, "text": plan.text,
            "sides": [s.side for s in plan.sides]}  # fmt: skip


def turn_open(*, session_token: str, crowd_code: str, token: str, text: str) -> list[OpenedTurn]:
    """Check the rater's message and open the next turn: one streaming Turn row per side.
    Refuses (LiveInputError) what session_checked, prompt_checked and turn_plan refuse.
    For callers in a thread (Django's connection); the answer endpoint does the same
    statements on the event loop (evalhub.live.stream_app)."""
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, state_params(session_token=session_token,
                                               crowd_code=crowd_code, token=token))  # fmt: skip
        row = cursor.fetchone()
    state = session_checked(json.loads(row[0]) if row else None,
                            sent=event_count(rate_key(session_token)))  # fmt: skip
    plan = turn_plan(state, prompt_checked(live_settings(state), text))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if plan.stale:
                cursor.execute(STALE_SQL, {"ids": plan.stale})
            cursor.execute(OPEN_SQL, open_params(plan))
            ids = [r[0] for r in cursor.fetchall()]
    except IntegrityError as exc:
        raise LiveInputError(ANSWER_RUNNING, status=409) from exc
    return plan.opened(ids)


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
