"""Writes for rating sessions: start (crowd or logged-in), consent, answer, and keeping one
live assignment per session. The answer itself is evalhub.rating.answer.

A session names its live assignment to the browser only by a random `assignment_token`,
replaced at every reservation, so a stale or repeated submit is recognised and ignored."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from evalhub.rating import statements
from evalhub.rating.models import ItemPage, RaterSession
from evalhub.rating.selectors import session_from_row
from evalhub.studies import pool
from evalhub.studies.models import Assignment, Rater, Study
from evalhub.studies.services import (
    assignments_expire,
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


@transaction.atomic
def session_start_crowd(
    *, study: Study, participant_id: str, prolific_study_id: str = "", prolific_session_id: str = ""
) -> RaterSession:
    """The crowd participant's one session in this study, made on first entry and returned
    unchanged on every later one (a second Prolific session resumes the first)."""
    if not _PARTICIPANT_ID.match(participant_id or ""):
        raise SessionInputError("PROLIFIC_PID: missing or not a Prolific participant id")
    return _start_crowd_sql(
        study=study,
        external_id_hash=participant_hash(participant_id),
        prolific_study_id=prolific_study_id[:100],
        prolific_session_id=prolific_session_id[:100],
    )


def _start_crowd_sql(
    *, study: Study, external_id_hash: str, prolific_study_id: str, prolific_session_id: str
) -> RaterSession:
    """session_start_crowd in (at most) three prepared statements, no ORM."""
    token = secrets.token_urlsafe(32)
    golds = gold_positions(quota=study.session_quota, rate=study.attention_check_rate, seed=token)
    params = {
        "hash": external_id_hash, "now": timezone.now(), "token": token, "study": study.pk,
        "prolific_study": prolific_study_id, "prolific_session": prolific_session_id,
        "quota": study.session_quota, "golds": Jsonb(golds),
    }  # fmt: skip
    (params["rater"],) = pool.execute(statements.RATER_UPSERT, params).fetchone()
    row = pool.execute(statements.SESSION_NEW, params).fetchone()
    if row is None:  # a returning participant
        row = pool.execute(statements.SESSION_OLD, params).fetchone()
    return session_from_row(row, study)


@transaction.atomic
def session_start_user(*, study: Study, user: AbstractBaseUser) -> RaterSession:
    """A logged-in rater's (author's) session in this study, consented and with an item."""
    rater, _ = Rater.objects.get_or_create(user=user, defaults={"group": Rater.Group.AUTHOR})
    # Authors rate until the pool runs dry, with no attention checks.
    quota = ItemPage.objects.filter(study=study, is_gold=False).count()
    session, _ = RaterSession.objects.get_or_create(
        study=study,
        rater=rater,
        defaults={"token": secrets.token_urlsafe(32), "quota": quota, "gold_positions": [],
                  "consented_at": timezone.now()},
    )  # fmt: skip
    return session_resume(session=session)


@transaction.atomic
def session_resume(*, session: RaterSession, now: datetime | None = None) -> RaterSession:
    """Make sure a consented, active session holds a live assignment: keep the one it has
    (a refresh shows the same item), or, if it expired, return it to the pool and reserve
    the next."""
    return _resume(session, now or timezone.now())


def _resume(session: RaterSession, now: datetime) -> RaterSession:
    """session_resume in prepared statements; updates and returns `session`. Must run
    inside a transaction."""
    row = pool.execute(statements.RESUME, {"session": session.pk}).fetchone()
    (study_id, status, consented_at, done, golds, rater_id, study_status, k, seconds,
     assignment_status, expires_at) = row  # fmt: skip
    if session.study_id != study_id:
        session.study_id = study_id
    session.status, session.consented_at, session.done = status, consented_at, done
    reserved = assignment_status == Assignment.Status.RESERVED
    if session.is_finished or consented_at is None or (reserved and expires_at > now):
        return session
    if reserved:  # expired
        assignments_expire(study=Study(pk=study_id), now=now)
    if study_status != Study.Status.LAUNCHED:
        return session
    made = pool.reserve_row(study_id=study_id, rater_id=rater_id, k=k,
                            reservation_seconds=seconds, gold=done in golds, now=now)  # fmt: skip
    if made is None:
        session.assignment_id, session.assignment_token = None, ""
        session.status, session.finished_at = RaterSession.Status.EXHAUSTED, now
    else:
        session.assignment_id, session.assignment_token = made[0], secrets.token_urlsafe(16)
    params = {"session": session.pk, "assignment": session.assignment_id,
              "token": session.assignment_token, "status": session.status,
              "finished": session.finished_at}  # fmt: skip
    pool.execute(statements.MOVE_ON, params)
    return session


@transaction.atomic
def session_consent(*, session: RaterSession) -> RaterSession:
    """Record consent (once) and reserve the first item."""
    now = timezone.now()
    pool.execute(statements.CONSENT, {"now": now, "session": session.pk})
    return _resume(session, now)
