"""A rater's answer: the hot path of the rating loop. Two prepared statements
(evalhub.rating.statements: READ and ANSWER) and no explicit transaction:

1. Read the session (by cookie token or logged-in user) with its study, live assignment and
   item: everything the answer's decisions need, made in Python from this row.
2. One statement does the rest, atomically: lock the session and its assignment, provided
   they are still as read (else it does nothing, and the answer runs again under locks,
   see below); claim the assignment, count it on the item, insert the judgment, reserve the
   next item (gold at the session's attention-check positions, else the fullest open real
   item) and move the session on, or finish it.

An answer that raced another write (a double submit, the expiry sweep, a study closing)
finds its session changed in step 2 and runs again in a transaction that first locks the
session and its assignment (LOCK), so it decides on the winner's state. The claim's own
conditions (the rater's, reserved, unexpired) still guard the write, and the session's
count only moves when a judgment was written. No BEGIN, COMMIT or connection health check
on the common path: each costs a round trip, as much as a statement."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.instruments.selectors import definition_of
from evalhub.rating import statements
from evalhub.rating.models import RaterSession
from evalhub.rating.selectors import SessionKey, rating_view
from evalhub.studies.models import Study
from evalhub.studies.pool import execute, judgment_params
from evalhub.studies.services import (
    MAX_ATTENTION_FAILURES,
    JudgmentInputError,
    gold_answer_given,
    sweep_now_and_then,
    too_fast_threshold_ms,
    verdict_fields,
)


@dataclass(frozen=True)
class AnswerOutcome:
    """What an answer did: `recorded` is False for stale, repeated or expired submits;
    `finished` says the session is over (completed, screened out or out of items)."""

    finished: bool
    recorded: bool
    attention_failed: bool = False
    rate_limited: bool = False


@dataclass(frozen=True)
class _Raced:
    """The session changed between the read and the write."""

    session_id: int


def session_answer(
    *,
    key: SessionKey,
    assignment_token: str,
    choice: str = "",
    turn_labels: list[str] | None = None,
    comment: str = "",
    client_ms: int | None = None,
    limit: int = 0,
) -> AnswerOutcome | None:
    """Submit the answer to the session's live assignment, then reserve the next item or
    finish the session (quota reached, pool dry, or two failed attention checks: screened
    out; one failure never is). None when `key` names no session. A stale or repeated
    submit records nothing; an expired one records nothing and moves on to a fresh item.
    Every answer to a live session counts against its `limit` per minute (0: none); one
    over it writes nothing (`rate_limited`). Raises JudgmentInputError for an answer that
    does not fit the form (nothing written but the count). Time on task is the page's
    clock when it fits within the server's, else the server's."""
    answer = dict(assignment_token=assignment_token, choice=choice, turn_labels=turn_labels,
                  comment=comment, client_ms=client_ms, limit=limit)  # fmt: skip
    outcome = _answer_sql(key=key, locked_session=None, **answer)
    if isinstance(outcome, _Raced):
        outcome = _answer_locked(key=key, session_id=outcome.session_id, **answer)
    if isinstance(outcome, JudgmentInputError):
        raise outcome
    return outcome


@transaction.atomic
def _answer_locked(*, session_id: int, **answer: Any) -> AnswerOutcome | JudgmentInputError | None:
    """The answer again, reading what the winner of the race left, under its row locks."""
    execute(statements.LOCK, {"session": session_id})
    return _answer_sql(locked_session=session_id, **answer)


def _answer_sql(
    *,
    key: SessionKey,
    locked_session: int | None,
    assignment_token: str,
    choice: str,
    turn_labels: list[str] | None,
    comment: str,
    client_ms: int | None,
    limit: int,
) -> Any:
    """The answer; `locked_session`: the session whose rows this transaction holds locked
    (None: no transaction, no locks). Returns the AnswerOutcome (None: no session), the
    JudgmentInputError to raise (once the count is written), or _Raced when not locked and
    the session changed since the read."""
    now = timezone.now()
    locked = locked_session is not None
    window = int(now.timestamp() // 60)  # the answer limit's window: minutes since the epoch
    row = execute(statements.READ[key.by], {**key.params, "window": window}).fetchone()
    if row is None:  # no session, or one without an assignment (finished)
        view = rating_view(key=key)
        return None if view is None else AnswerOutcome(view.is_finished, recorded=False)
    (session_id, status, done, quota, failures, gold_positions, live_token, rater_id, group,
     count, study_id, study_status, kind, k, reservation_seconds, too_fast_policy,
     instrument_id, instrument_hash,
     assignment_id, assignment_status, reserved_at, expires_at, target_side,
     reading_chars, is_gold, turns, gold_answer) = row  # fmt: skip
    if 0 < limit < count:
        return AnswerOutcome(finished=False, recorded=False, rate_limited=True)
    counted = {"session": session_id, "window": window}
    # A replaced token never comes back and a finished session or closed study stays so:
    # these need no lock.
    if (
        status != RaterSession.Status.ACTIVE
        or not assignment_token
        or not hmac.compare_digest(assignment_token, live_token)
        or study_status != Study.Status.LAUNCHED
    ):
        execute(statements.COUNT, counted)
        return AnswerOutcome(finished=status != RaterSession.Status.ACTIVE, recorded=False)
    try:
        definition = definition_of(instrument_id, instrument_hash)
        fields = verdict_fields(
            definition, kind, target_side, choice, turn_labels, turns or 0, comment
        )
    except JudgmentInputError as exc:
        execute(statements.COUNT, counted)
        return exc
    server_ms = int((now - reserved_at).total_seconds() * 1000)
    # The page's own clock excludes loading time; trust it only within the server's.
    ms = client_ms if client_ms is not None and 0 <= client_ms <= server_ms + 2000 else server_ms
    # The claim succeeds exactly when the assignment is live now (`current` has it locked).
    recorded = assignment_status == "reserved" and expires_at > now
    failed = (
        recorded
        and is_gold
        and not gold_answer_given(gold_answer, fields["verdict"], fields["turn_labels"])
    )
    final = ""
    if failures + failed >= MAX_ATTENTION_FAILURES:
        final = RaterSession.Status.SCREENED_OUT
    elif done + recorded >= quota:
        final = RaterSession.Status.COMPLETED
    if not final and not locked:  # under locks, the sweep would end our own reservation
        sweep_now_and_then(study_id, now)
    params = judgment_params(
        assignment_id=assignment_id, rater_id=rater_id, rater_group=group, is_gold=is_gold,
        fields=fields, comment=comment, time_on_task_ms=ms,
        too_fast=ms < too_fast_threshold_ms(reading_chars, too_fast_policy), now=now,
    )  # fmt: skip
    params.update(
        counted, live_token=live_token, done=done, failures=failures,
        assignment_status=assignment_status, study=study_id, k=k, failed=failed, final=final,
        reserve=not final, want_gold=not final and done + recorded in gold_positions,
        token=secrets.token_urlsafe(16), expires=now + timedelta(seconds=reservation_seconds),
    )  # fmt: skip
    written = execute(statements.ANSWER, params).fetchone()
    if written is None:
        if locked:  # cannot be: LOCK holds the rows
            raise RuntimeError(f"rating session {session_id} changed under its row lock")
        return _Raced(session_id)
    judgment_id, new_status = written
    if judgment_id is not None:  # now, or once the surrounding transaction commits
        transaction.on_commit(lambda: study_stats_invalidate(study_id))
    return AnswerOutcome(
        finished=new_status != RaterSession.Status.ACTIVE,
        recorded=judgment_id is not None,
        attention_failed=failed,
    )
