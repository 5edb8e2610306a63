"""Writes for rating sessions: start (crowd or logged-in), consent, answer, and keeping one
live assignment per session.

A session names its live assignment to the browser only by a random `assignment_token`,
replaced at every reservation, so a stale or repeated submit is recognised and ignored."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from evalhub.rating.models import ItemPage, RaterSession
from evalhub.studies.models import Assignment, Rater, Study
from evalhub.studies.services import (
    MAX_ATTENTION_FAILURES,
    assignments_expire,
    attention_check_passed,
    reserve_in_transaction,
    submit_in_transaction,
)

_PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class SessionInputError(ValueError):
    """A bad entry link (missing or malformed participant id)."""


def participant_hash(participant_id: str) -> str:
    """Keyed hash (HMAC-SHA256, settings.RATER_ID_HASH_KEY) of a Prolific participant id;
    the raw id is never stored."""
    key = settings.RATER_ID_HASH_KEY.encode()
    return hmac.new(key, f"prolific:{participant_id}".encode(), hashlib.sha256).hexdigest()


def gold_positions(*, quota: int, rate: float, seed: str) -> list[int]:
    """Which of a session's `quota` items (0-based) are attention checks: round(quota*rate)
    of them, never the first, at positions drawn from `seed`."""
    count = min(max(quota - 1, 0), round(quota * rate))
    return sorted(random.Random(seed).sample(range(1, quota), k=count)) if count else []


def _new_session(*, study: Study, rater: Rater, crowd: bool, **fields: Any) -> RaterSession:
    token = secrets.token_urlsafe(32)
    if crowd:
        quota = study.session_quota
        golds = gold_positions(quota=quota, rate=study.attention_check_rate, seed=token)
    else:  # logged-in authors rate until the pool runs dry, with no attention checks
        quota = ItemPage.objects.filter(study=study, is_gold=False).count()
        golds = []
    session, _ = RaterSession.objects.get_or_create(
        study=study,
        rater=rater,
        defaults={"token": token, "quota": quota, "gold_positions": golds, **fields},
    )
    return session


@transaction.atomic
def session_start_crowd(
    *, study: Study, participant_id: str, prolific_study_id: str = "", prolific_session_id: str = ""
) -> RaterSession:
    """The crowd participant's one session in this study, made on first entry and returned
    unchanged on every later one (a second Prolific session resumes the first)."""
    if not _PARTICIPANT_ID.match(participant_id or ""):
        raise SessionInputError("PROLIFIC_PID: missing or not a Prolific participant id")
    rater, _ = Rater.objects.get_or_create(
        external_id_hash=participant_hash(participant_id), defaults={"group": Rater.Group.CROWD}
    )
    return _new_session(
        study=study,
        rater=rater,
        crowd=True,
        prolific_study_id=prolific_study_id[:100],
        prolific_session_id=prolific_session_id[:100],
    )


@transaction.atomic
def session_start_user(*, study: Study, user: AbstractBaseUser) -> RaterSession:
    """A logged-in rater's (author's) session in this study, consented and with an item."""
    rater, _ = Rater.objects.get_or_create(user=user, defaults={"group": Rater.Group.AUTHOR})
    session = _new_session(study=study, rater=rater, crowd=False, consented_at=timezone.now())
    return session_resume(session=session)


def _finish(session: RaterSession, status: str, now: datetime) -> None:
    session.status = status
    session.finished_at = now
    session.assignment = None
    session.assignment_token = ""


def _advance(session: RaterSession, study: Study, now: datetime) -> None:
    """Give an active session its next assignment, or finish it when the pool is dry."""
    gold = session.done in session.gold_positions
    assignment = reserve_in_transaction(study=study, rater=session.rater, gold=gold, now=now)
    if assignment is None:
        _finish(session, RaterSession.Status.EXHAUSTED, now)
        return
    session.assignment = assignment
    session.assignment_token = secrets.token_urlsafe(16)


def _is_live(assignment: Assignment | None, now: datetime) -> bool:
    return bool(
        assignment
        and assignment.status == Assignment.Status.RESERVED
        and assignment.expires_at > now
    )


@transaction.atomic
def session_resume(*, session: RaterSession, now: datetime | None = None) -> RaterSession:
    """Make sure a consented, active session holds a live assignment: keep the one it has
    (a refresh shows the same item), or, if it expired, return it to the pool and reserve
    the next."""
    now = now or timezone.now()
    session = (
        RaterSession.objects.select_for_update(of=("self",))
        .select_related("study", "rater", "assignment")
        .get(pk=session.pk)
    )
    if session.is_finished or session.consented_at is None or _is_live(session.assignment, now):
        return session
    if session.assignment is not None and session.assignment.status == Assignment.Status.RESERVED:
        assignments_expire(study=session.study, now=now)
    if session.study.status != Study.Status.LAUNCHED:
        return session
    _advance(session, session.study, now)
    session.save(update_fields=["assignment", "assignment_token", "status", "finished_at"])
    return session


@transaction.atomic
def session_consent(*, session: RaterSession) -> RaterSession:
    """Record consent (once) and reserve the first item."""
    now = timezone.now()
    updated = RaterSession.objects.filter(pk=session.pk, consented_at__isnull=True).update(
        consented_at=now
    )
    if updated:
        session.consented_at = now
    return session_resume(session=session, now=now)


@dataclass(frozen=True)
class AnswerOutcome:
    """What an answer did: `recorded` is False for stale, repeated or expired submits."""

    session: RaterSession
    recorded: bool
    attention_failed: bool = False


@transaction.atomic
def session_answer(
    *,
    where: dict[str, Any],
    assignment_token: str,
    choice: str = "",
    turn_labels: list[str] | None = None,
    comment: str = "",
    client_ms: int | None = None,
) -> AnswerOutcome:
    """Submit the answer to the session's live assignment, then reserve the next item or
    finish the session (quota reached, pool dry, or two failed attention checks: screened
    out; one failure never is). `where` finds the session (e.g. token and study slug).
    Raises RaterSession.DoesNotExist or JudgmentInputError (nothing written)."""
    now = timezone.now()
    session = (
        RaterSession.objects.select_for_update(of=("self",))
        .select_related("study", "rater", "assignment__item__page")
        .defer(
            "assignment__item__page__prompt_html",
            "assignment__item__page__target_html",
            "assignment__item__page__baseline_html",
            "assignment__item__page__context",
        )
        .get(**where)
    )
    study = session.study
    assignment = session.assignment
    if (
        session.is_finished
        or assignment is None
        or not assignment_token
        or not hmac.compare_digest(assignment_token, session.assignment_token)
        or study.status != Study.Status.LAUNCHED
    ):
        return AnswerOutcome(session=session, recorded=False)
    server_ms = int((now - assignment.reserved_at).total_seconds() * 1000)
    # The page's own clock excludes loading time; trust it only within the server's.
    ms = client_ms if client_ms is not None and 0 <= client_ms <= server_ms + 2000 else server_ms
    judgment = submit_in_transaction(
        assignment=assignment,
        rater=session.rater,
        study=study,
        choice=choice,
        turn_labels=turn_labels,
        comment=comment,
        time_on_task_ms=ms,
        now=now,
    )
    if judgment is None:  # expired under the rater's hands: move on to a fresh item
        session.assignment = None
        _advance(session, study, now)
        session.save(update_fields=["assignment", "assignment_token", "status", "finished_at"])
        return AnswerOutcome(session=session, recorded=False)
    failed = judgment.is_attention_check and not attention_check_passed(assignment.item, judgment)
    session.done += 1
    if failed:
        session.attention_failures += 1
    if session.attention_failures >= MAX_ATTENTION_FAILURES:
        _finish(session, RaterSession.Status.SCREENED_OUT, now)
    elif session.done >= session.quota:
        _finish(session, RaterSession.Status.COMPLETED, now)
    else:
        _advance(session, study, now)
    session.save(
        update_fields=[
            "done", "attention_failures", "assignment", "assignment_token", "status",
            "finished_at",
        ]
    )  # fmt: skip
    return AnswerOutcome(session=session, recorded=True, attention_failed=failed)
