"""Writes for live conversations and battles: consent, start one, label a turn, end it,
vote, and finish (which writes the Prompt, Outputs, Item and Judgment that the dashboards
count). Creating a live study is in evalhub.live.creation; opening and closing turns in
evalhub.live.turns."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from evalhub.live import pairing
from evalhub.live.battle_instrument import battle_choice_side
from evalhub.live.errors import LiveInputError
from evalhub.live.models import Conversation, LiveStudy, Turn
from evalhub.live.selectors import study_models
from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.prompts.models import Prompt
from evalhub.rating.models import RaterSession
from evalhub.stats.pairing_design import plug_in_ratings
from evalhub.studies.models import Item, Judgment, Rater, Study

LABELS = {"fail", "pass", "excellent"}  # LIMA's turn labels


@dataclass
class FinishedConversation:
    finished_session: bool
    reveal: dict[str, str] = field(default_factory=dict)


# --- sessions and conversations --------------------------------------------------------------


@transaction.atomic
def live_session_consent(*, session: RaterSession) -> RaterSession:
    """Record consent once. Live studies reserve no items: a conversation starts on the
    chat page."""
    now = timezone.now()
    RaterSession.objects.filter(pk=session.pk, consented_at__isnull=True).update(consented_at=now)
    session.consented_at = session.consented_at or now
    return session


@transaction.atomic
def live_session_start_staff(*, study: Study, user: AbstractBaseUser) -> RaterSession:
    """A logged-in staff member's one session in a staff live study, made on first entry
    (consented: staff agreed to the lab's terms, not a study's) and returned on every later
    one. Their judgments count under the rater group "author", apart from any crowd."""
    live = LiveStudy.objects.get(pk=study.pk)
    if live.participants != LiveStudy.Participants.STAFF:
        raise LiveInputError("This study is for Prolific participants.", status=403)
    rater, _ = Rater.objects.get_or_create(user=user, defaults={"group": Rater.Group.AUTHOR})
    session, _ = RaterSession.objects.get_or_create(
        study=study, rater=rater,
        defaults={"token": secrets.token_urlsafe(32), "quota": study.session_quota,
                  "gold_positions": [], "consented_at": timezone.now()},
    )  # fmt: skip
    return session


# Adaptive pairing reads the current BT ratings from a cached fit, fitted again only once
# this many votes (or a fifth more, if that is more) came in since the last fit, as in the
# simulation that measured the rule (evalhub.stats.pairing_design.simulate_pairing).
ADAPTIVE_REFRESH_VOTES = 10
_OUTCOME = {"A": 1, "tie": 0, "B": -1}  # a vote's shown side as a left-model outcome


def _ratings(study: Study, ids: list[int]) -> dict[int, float]:
    """Each model's ridge-regularised BT rating (natural units) from the study's finished
    battles: the plug-in win probabilities of adaptive pairing."""
    rows = (
        Conversation.objects.filter(
            study=study, status=Conversation.Status.FINISHED, right__isnull=False
        )
        .exclude(vote="")
        .values_list("left", "right", "vote")
    )
    index = {m: k for k, m in enumerate(ids)}
    sides: dict[str, int] = {}
    battles = []
    for left, right, vote in rows:
        if left in index and right in index:
            if vote not in sides:
                sides[vote] = _OUTCOME[battle_choice_side(study, vote)]
            battles.append((index[left], index[right], sides[vote]))
    a, b, o = zip(*battles, strict=True) if battles else ((), (), ())
    fitted = plug_in_ratings(a, b, o, len(ids))
    return {m: float(fitted[index[m]]) for m in ids}


def _cached_ratings(study: Study, ids: list[int], votes: dict[int, int]) -> dict[int, float]:
    """_ratings, fitted again only after ADAPTIVE_REFRESH_VOTES new votes (`votes`: each
    model's voted battles); all zeros (every pair alike) before the first."""
    total = sum(votes.values()) // 2
    if total < ADAPTIVE_REFRESH_VOTES:
        return dict.fromkeys(ids, 0.0)
    key = f"live:pairing-ratings:{study.pk}"
    fit = cache.get(key)
    if fit is None or not 0 <= total - fit["votes"] < max(ADAPTIVE_REFRESH_VOTES,
                                                          fit["votes"] // 5):  # fmt: skip
        fit = {"votes": total, "ratings": {str(m): r for m, r in _ratings(study, ids).items()}}
        cache.set(key, fit, timeout=None)
    return {m: fit["ratings"].get(str(m), 0.0) for m in ids}


@transaction.atomic
def conversation_start(*, session: RaterSession, rng: random.Random | None = None) -> Conversation:
    """The session's active conversation, or a new one with its model (conversations: the
    least-used model) or pair and sides (battles: see evalhub.live.pairing). The live study
    row is locked while choosing, so concurrent raters keep the counts exact. `rng` draws
    among equal choices (a seeded one makes a simulated run reproducible)."""
    found = Conversation.objects.filter(session=session, status=Conversation.Status.ACTIVE).first()
    if found is not None:
        return found
    live = LiveStudy.objects.select_for_update().select_related("study").get(pk=session.study_id)
    study = live.study
    models = study_models(study)
    ids = [m.pk for m in models]
    started = Conversation.objects.filter(study=study).exclude(status=Conversation.Status.ABANDONED)
    rng = rng or random.Random()
    if live.mode == LiveStudy.Mode.CONVERSATION:
        counts = dict(started.values_list("left").annotate(n=Count("id")).values_list("left", "n"))
        left, right = pairing.next_model(ids, counts, rng), None
    else:
        rows = started.values_list("left", "right").annotate(
            n=Count("id"), voted=Count("id", filter=Q(status=Conversation.Status.FINISHED))
        )
        counts: dict[pairing.Pair, int] = {}
        votes: dict[int, int] = {}
        for a, b, n, voted in rows.values_list("left", "right", "n", "voted"):
            pair = (a, b) if ids.index(a) < ids.index(b) else (b, a)
            counts[pair] = counts.get(pair, 0) + n
            votes[a], votes[b] = votes.get(a, 0) + voted, votes.get(b, 0) + voted
        ratings = _cached_ratings(study, ids, votes) if live.adaptive else None
        pair = pairing.next_pair(pairing.all_pairs(ids), counts, live.target_per_pair, rng, ratings)
        left, right = pair if pairing.left_first(counts.get(pair, 0)) else pair[::-1]
    return Conversation.objects.create(
        token=secrets.token_urlsafe(24), study=study, session=session, mode=live.mode,
        left_id=left, right_id=right,
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
    """The rater's vote on a battle: a choice value of the study's pairwise instrument
    (LIMA's A / B / tie by default; A = left, B = right); it ends the battle."""
    conversation = _active(session, token)
    battle_choice_side(conversation.study, choice)  # refuses an unknown choice
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
        vote, side = conversation.vote, battle_choice_side(study, conversation.vote)
        if side == "tie":
            verdict = Judgment.Verdict.TIE
        else:
            target = (side == "A") == left_is_target
            verdict = Judgment.Verdict.TARGET if target else Judgment.Verdict.BASELINE
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
