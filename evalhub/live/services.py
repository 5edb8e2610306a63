"""Writes for live studies: create one, start a conversation or battle, open / finish /
fail a turn, label a turn, vote, and finish (which writes the Prompt, Outputs, Item and
Judgment that the dashboards count)."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from evalhub.live import moderation, pairing
from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.rating.limits import over_limit
from evalhub.rating.models import RaterSession
from evalhub.studies.models import Item, Judgment, Study
from evalhub.studies.services import config_hash

PAIRWISE_VOTES = {"A", "B", "tie"}  # LIMA's 3-way vote
LABELS = {"fail", "pass", "excellent"}  # LIMA's turn labels
# Sampling for live turns when the model entry sets none: LIMA's decoding, shorter answers
# (a rater waits for each one).
LIVE_MAX_TOKENS = 512
STALE_STREAM = timedelta(minutes=10)


class LiveInputError(ValueError):
    """A request the live study refuses; the message is safe to show the rater.
    `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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


@dataclass
class FinishedConversation:
    finished_session: bool
    reveal: dict[str, str] = field(default_factory=dict)


# --- creating a live study -------------------------------------------------------------------


@transaction.atomic
def live_study_create(
    *,
    slug: str,
    name: str,
    mode: str,
    models: list[ModelEntry],
    max_turns: int = 3,
    target_per_pair: int = 10,
    adaptive: bool = False,
    reveal_models: bool = False,
    session_quota: int = 3,
    completion_code: str = "",
    screenout_code: str = "",
    max_prompt_chars: int = 4000,
    messages_per_minute: int = 6,
    blocklist: list[str] | None = None,
    moderation_judge: Any = None,
    model_limits: dict[str, dict[str, int]] | None = None,
    by: AbstractBaseUser | None = None,
) -> Study:
    """A launched live study over `models` (target first). Its rater prompts are kept in a
    prompt set of its own, `<slug>-live`, usable later by offline studies. Raises
    LiveInputError naming the bad setting."""
    if mode not in LiveStudy.Mode.values:
        raise LiveInputError(f"mode: must be one of {', '.join(LiveStudy.Mode.values)}")
    need = 2 if mode == LiveStudy.Mode.BATTLE else 1
    if len(models) < need:
        raise LiveInputError(f"models: a live {mode} needs at least {need} models")
    for model in models:
        if model.kind == ModelEntry.Kind.EXTERNAL or not model.base_url or not model.model_path:
            raise LiveInputError(
                f"models: {model.slug} has no OpenAI-compatible endpoint (base_url and "
                "model_path, the model name there)"
            )
    if not 1 <= max_turns <= 20:
        raise LiveInputError("max_turns: must be between 1 and 20")
    if session_quota < 1 or target_per_pair < 1:
        raise LiveInputError("session_quota and target_per_pair: must be at least 1")
    prompt_set = PromptSet.objects.create(
        slug=f"{slug}-live"[:100], name=f"{name} (live prompts)",
        description=f"Prompts raters wrote in the live study {slug}.",
    )  # fmt: skip
    kind = Study.Kind.PAIRWISE if mode == LiveStudy.Mode.BATTLE else Study.Kind.DIALOGUE
    study = Study.objects.create(
        slug=slug, name=name, kind=kind, prompt_set=prompt_set, target_model=models[0],
        raters_per_item=1, attention_check_rate=0, session_quota=session_quota,
        completion_code=completion_code, screenout_code=screenout_code, created_by=by,
    )  # fmt: skip
    study.baselines.set(models[1:])
    live = LiveStudy.objects.create(
        study=study, mode=mode, max_turns=max_turns, target_per_pair=target_per_pair,
        adaptive=adaptive, reveal_models=reveal_models, max_prompt_chars=max_prompt_chars,
        messages_per_minute=messages_per_minute, blocklist=list(blocklist or []),
        moderation_judge=moderation_judge, model_limits=dict(model_limits or {}),
    )  # fmt: skip
    study.config = {
        "schema": 1,
        "study": slug,
        "kind": kind,
        "live": {
            "mode": mode, "models": [m.slug for m in models], "max_turns": max_turns,
            "target_per_pair": target_per_pair, "adaptive": adaptive,
            "reveal_models": reveal_models, "max_prompt_chars": max_prompt_chars,
            "messages_per_minute": messages_per_minute, "blocklist": live.blocklist,
            "moderation_judge": moderation_judge.slug if moderation_judge else "",
            "model_limits": live.model_limits,
        },
        "session_quota": session_quota,
        "completion_code": completion_code,
        "screenout_code": screenout_code,
        # No attention checks: a live answer has no known right label.
        "attention_checks": {"rate": 0, "kind": "none (live turns have no known answer)"},
    }  # fmt: skip
    study.config_hash = config_hash(study.config)
    study.status = Study.Status.LAUNCHED
    study.launched_at = timezone.now()
    study.save(update_fields=["config", "config_hash", "status", "launched_at"])
    return study


def study_models(study: Study) -> list[ModelEntry]:
    """The study's models in its order: target, then baselines by slug."""
    return [study.target_model, *study.baselines.order_by("slug")]


# --- sessions and conversations --------------------------------------------------------------


@transaction.atomic
def live_session_consent(*, session: RaterSession) -> RaterSession:
    """Record consent once. Live studies reserve no items: a conversation starts on the
    chat page."""
    now = timezone.now()
    RaterSession.objects.filter(pk=session.pk, consented_at__isnull=True).update(consented_at=now)
    session.consented_at = session.consented_at or now
    return session


def _widths(study: Study) -> dict[int, float]:
    """Each model's Bradley-Terry interval width (upper - lower) in this study so far."""
    from evalhub.dashboards.selectors import study_results

    board = study_results(study).get("leaderboard") or {}
    by_slug = {row["model"]: row["upper"] - row["lower"] for row in board.get("models", [])}
    return {m.pk: by_slug[m.slug] for m in study_models(study) if by_slug.get(m.slug) is not None}


@transaction.atomic
def conversation_start(*, session: RaterSession) -> Conversation:
    """The session's active conversation, or a new one with its model (conversations: the
    least-used model) or pair and sides (battles: see evalhub.live.pairing). The live study
    row is locked while choosing, so concurrent raters keep the counts exact."""
    found = Conversation.objects.filter(session=session, status=Conversation.Status.ACTIVE).first()
    if found is not None:
        return found
    live = LiveStudy.objects.select_for_update().select_related("study").get(pk=session.study_id)
    study = live.study
    models = study_models(study)
    ids = [m.pk for m in models]
    started = Conversation.objects.filter(study=study).exclude(status=Conversation.Status.ABANDONED)
    rng = random.Random()
    if live.mode == LiveStudy.Mode.CONVERSATION:
        counts = dict(started.values_list("left").annotate(n=Count("id")).values_list("left", "n"))
        left, right = pairing.next_model(ids, counts, rng), None
    else:
        rows = started.values_list("left", "right").annotate(n=Count("id"))
        counts: dict[pairing.Pair, int] = {}
        for a, b, n in rows.values_list("left", "right", "n"):
            pair = (a, b) if ids.index(a) < ids.index(b) else (b, a)
            counts[pair] = counts.get(pair, 0) + n
        widths = _widths(study) if live.adaptive else None
        pair = pairing.next_pair(pairing.all_pairs(ids), counts, live.target_per_pair, rng, widths)
        left, right = pair if pairing.left_first(counts.get(pair, 0)) else pair[::-1]
    return Conversation.objects.create(
        token=secrets.token_urlsafe(24), study=study, session=session, mode=live.mode,
        left_id=left, right_id=right,
    )  # fmt: skip


def _spec(model: ModelEntry, limits: dict[str, Any]) -> ModelSpec:
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


def _check_prompt(live: LiveStudy, text: str) -> str:
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


@transaction.atomic
def turn_open(*, session_token: str, slug: str, token: str, text: str) -> list[OpenedTurn]:
    """Check the rater's message and open the next turn: one streaming Turn row per side.
    The rater is named by their session cookie in study `slug`. Refuses (LiveInputError)
    an unknown or finished session, a message that is empty, too long, blocked or over
    the session's rate, a turn while one streams or is unlabelled, and one past max_turns.
    A few statements in all: it stands between the rater and the first token."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("session", "left", "right", "study__live")
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
    text = _check_prompt(live, text)
    turns = list(conversation.turns.exclude(status=Turn.Status.FAILED).order_by("index"))
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
        spec = _spec(model, live.model_limits or {})
        opened.append(OpenedTurn(row.pk, side, spec, messages, secrets.randbelow(2**31)))
    return opened


def turn_finish(*, turn_id: int, text: str, provenance: dict[str, Any]) -> None:
    """A turn's answer arrived whole."""
    Turn.objects.filter(pk=turn_id, status=Turn.Status.STREAMING).update(
        status=Turn.Status.DONE, assistant_text=text, provenance=provenance,
        finished_at=timezone.now(),
    )  # fmt: skip


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


def _active(session: RaterSession, token: str) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("study__live", "left", "right")
        .filter(token=token, session=session)
        .first()
    )
    if conversation is None or conversation.status != Conversation.Status.ACTIVE:
        raise LiveInputError("This conversation is over. Please reload the page.", status=409)
    return conversation


@transaction.atomic
def turn_label(*, session: RaterSession, token: str, label: str) -> FinishedConversation | None:
    """Label the conversation's last answered turn with the study's absolute instrument
    (Fail / Pass / Excellent). At the last turn the conversation finishes: returned; else
    None."""
    if label not in LABELS:
        raise LiveInputError("label: pick Fail, Pass or Excellent")
    conversation = _active(session, token)
    if conversation.mode != LiveStudy.Mode.CONVERSATION:
        raise LiveInputError("label: this is a battle; vote instead", 409)
    last = conversation.turns.filter(status=Turn.Status.DONE).order_by("-index").first()
    if last is None or last.label:
        raise LiveInputError("label: there is no new answer to rate", 409)
    last.label = label
    last.save(update_fields=["label"])
    if last.index + 1 >= conversation.study.live.max_turns:
        return _finish(conversation, session)
    return None


@transaction.atomic
def conversation_end(*, session: RaterSession, token: str) -> FinishedConversation:
    """The rater ends a conversation before max_turns (every answered turn labelled)."""
    conversation = _active(session, token)
    if conversation.mode != LiveStudy.Mode.CONVERSATION:
        raise LiveInputError("A battle ends with a vote.", 409)
    turns = list(conversation.turns.filter(status=Turn.Status.DONE))
    if not turns or any(not t.label for t in turns):
        raise LiveInputError("Please rate every answer before ending the conversation.", 409)
    return _finish(conversation, session)


@transaction.atomic
def battle_vote(*, session: RaterSession, token: str, choice: str) -> FinishedConversation:
    """The rater's vote on a battle (A = left, B = right, tie), with the study's pairwise
    instrument; it ends the battle."""
    if choice not in PAIRWISE_VOTES:
        raise LiveInputError("choice: pick A, B or tie")
    conversation = _active(session, token)
    if conversation.mode != LiveStudy.Mode.BATTLE:
        raise LiveInputError("choice: this conversation is rated turn by turn", 409)
    turns = conversation.turns.exclude(status=Turn.Status.FAILED)
    if not turns.exists() or turns.filter(status=Turn.Status.STREAMING).exists():
        raise LiveInputError("Please wait for both answers before voting.", 409)
    conversation.vote = choice
    return _finish(conversation, session)


def _output(prompt: Prompt, model: ModelEntry, turns: list[Turn]) -> Output:
    texts = [t.assistant_text for t in turns]
    return Output.objects.create(
        prompt=prompt, model=model, sample_index=0, text=texts[-1],
        html=render_untrusted_markdown(texts[-1]), turns=texts if len(texts) > 1 else [],
        provenance={
            "engine": "openai-compatible (live, streamed)",
            "model": model.slug,
            "live": {"conversation": prompt.external_id, "turns": [t.provenance for t in turns]},
            **(turns[-1].provenance or {}),
        },
    )  # fmt: skip


def _finish(conversation: Conversation, session: RaterSession) -> FinishedConversation:
    """Write the finished conversation as Prompt, Output(s), Item and Judgment, and count
    it toward the session's quota. Must run inside a transaction."""
    now = timezone.now()
    study = conversation.study
    all_turns = list(conversation.turns.filter(status=Turn.Status.DONE).order_by("index", "side"))
    left = [t for t in all_turns if t.side == "A"]
    right = [t for t in all_turns if t.side == "B"]
    users = [t.user_text for t in left]
    prompt = Prompt.objects.create(
        prompt_set_id=study.prompt_set_id, external_id=f"live-{conversation.token}",
        text=users[-1], context=_context(left, with_answers=conversation.right is None),
        source="live", position=conversation.pk,
    )  # fmt: skip
    left_output = _output(prompt, conversation.left, left)
    elapsed = int((now - conversation.created_at).total_seconds() * 1000)
    base = {"rater": session.rater, "judge_group": session.rater.group,
            "time_on_task_ms": elapsed, "comment": ""}  # fmt: skip
    if conversation.right is None:
        item = Item.objects.create(study=study, prompt=prompt, target_output=left_output,
                                   judgment_count=1)  # fmt: skip
        labels = [t.label for t in left]
        Judgment.objects.create(item=item, raw_choice=",".join(labels), turn_labels=labels,
                                order=Judgment.Order.SINGLE, **base)  # fmt: skip
    else:
        right_output = _output(prompt, conversation.right, right)
        order_ids = [m.pk for m in study_models(study)]
        # The study's earlier model is the item's "target", as in offline pairwise items.
        left_is_target = order_ids.index(conversation.left_id) < order_ids.index(
            conversation.right_id
        )
        target, baseline = (
            (left_output, right_output) if left_is_target else (right_output, left_output)
        )
        item = Item.objects.create(study=study, prompt=prompt, target_output=target,
                                   baseline_output=baseline, judgment_count=1)  # fmt: skip
        vote = conversation.vote
        if vote == "tie":
            verdict = Judgment.Verdict.TIE
        else:
            verdict = (
                Judgment.Verdict.TARGET
                if (vote == "A") == left_is_target
                else Judgment.Verdict.BASELINE
            )
        order = Judgment.Order.TARGET_FIRST if left_is_target else Judgment.Order.BASELINE_FIRST
        Judgment.objects.create(item=item, raw_choice=vote, verdict=verdict, order=order, **base)
    conversation.status = Conversation.Status.FINISHED
    conversation.item = item
    conversation.finished_at = now
    conversation.save(update_fields=["status", "item", "finished_at", "vote"])
    session = RaterSession.objects.select_for_update().get(pk=session.pk)
    session.done += 1
    if session.done >= session.quota:
        session.status = RaterSession.Status.COMPLETED
        session.finished_at = now
    session.save(update_fields=["done", "status", "finished_at"])
    reveal = {}
    if study.live.reveal_models:
        reveal = {"A": conversation.left.name}
        if conversation.right is not None:
            reveal["B"] = conversation.right.name
    return FinishedConversation(finished_session=session.is_finished, reveal=reveal)


def _context(turns: list[Turn], *, with_answers: bool) -> list[dict[str, str]]:
    """Earlier turns as a prompt's context: user and assistant turns for a conversation
    (as recorded dialogues hold them), user turns only for a battle (each side answered
    differently; each side's answers are its Output's turns)."""
    context = []
    for turn in turns[:-1]:
        context.append({"role": "user", "content": turn.user_text})
        if with_answers:
            context.append({"role": "assistant", "content": turn.assistant_text})
    return context
