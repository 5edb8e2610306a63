"""A rater's answer: the hot path of the rating loop, in two prepared SQL statements.

1. Read the session (by cookie token or logged-in user) with its study and live assignment,
   locking the session and the assignment rows: one answer at a time per session, and the
   expiry sweep (which skips locked rows) cannot end the assignment under us.
2. One statement does the rest: claim the assignment, count it on the item, insert the
   judgment, reserve the next item (gold at the session's attention-check positions, else
   the fullest open real item) and move the session on, or finish it.

Every decision the second statement needs is made in Python from the first one's row; the
claim's own conditions (the rater's, reserved, unexpired) still guard the write, and the
session's count only moves when a judgment was written."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.rating.models import RaterSession
from evalhub.rating.selectors import SessionKey, rating_view
from evalhub.studies.models import Study
from evalhub.studies.pool import (
    CLAIM_SQL,
    JUDGMENT_SQL,
    MAX_ATTENTION_FAILURES,
    PICK_GOLD,
    PICK_REAL,
    RESERVE_SQL,
    TAKE_SQL,
    attention_check_passed,
    judgment_params,
    prepared_cursor,
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


_READ = """
SELECT s.id, s.status, s.done, s.quota, s.attention_failures, s.gold_positions,
       s.assignment_token, s.rater_id, r."group",
       st.id, st.status, st.kind, st.raters_per_item, st.reservation_seconds,
       st.config -> 'too_fast',
       a.id, a.status, a.reserved_at, a.expires_at, a.target_side,
       p.reading_chars, p.is_gold, jsonb_array_length(p.turns), i.gold_answer
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
JOIN studies_rater r ON r.id = s.rater_id
JOIN studies_assignment a ON a.id = s.assignment_id
JOIN studies_item i ON i.id = a.item_id
JOIN rating_itempage p ON p.item_id = a.item_id
WHERE {where}
FOR UPDATE OF s, a
"""
_READS = {where: _READ.format(where=where) for where in (
    SessionKey.crowd("", "").sql, SessionKey.author(0, 0).sql)}  # fmt: skip

# %(reserve)s: whether the session goes on (else it ends with %(final)s); %(want_gold)s:
# whether this position is an attention check (no gold left: a real item instead).
# Built from evalhub.studies.pool's constant fragments only.
_ANSWER = f"""
WITH {CLAIM_SQL},
judged AS ({JUDGMENT_SQL}),
pick_gold AS ({PICK_GOLD.replace("WHERE ", "WHERE %(want_gold)s AND ", 1)}),
pick_real AS ({PICK_REAL.replace("WHERE ", "WHERE %(reserve)s AND ", 1)}),
pick AS (SELECT * FROM pick_gold UNION ALL SELECT * FROM pick_real LIMIT 1),
taken AS ({TAKE_SQL}),
made AS ({RESERVE_SQL} RETURNING id)
UPDATE rating_ratersession s SET
    done = s.done + (SELECT count(*) FROM judged),
    attention_failures = s.attention_failures
        + CASE WHEN %(failed)s AND EXISTS (SELECT 1 FROM judged) THEN 1 ELSE 0 END,
    assignment_id = (SELECT id FROM made),
    assignment_token = CASE WHEN EXISTS (SELECT 1 FROM made) THEN %(token)s ELSE '' END,
    status = CASE WHEN EXISTS (SELECT 1 FROM made) THEN 'active'
                  WHEN %(reserve)s THEN 'exhausted' ELSE %(final)s END,
    finished_at = CASE WHEN EXISTS (SELECT 1 FROM made) THEN NULL ELSE %(now)s END
WHERE s.id = %(session)s
RETURNING (SELECT id FROM judged), s.status
"""  # noqa: S608


@transaction.atomic
def session_answer(
    *,
    key: SessionKey,
    assignment_token: str,
    choice: str = "",
    turn_labels: list[str] | None = None,
    comment: str = "",
    client_ms: int | None = None,
) -> AnswerOutcome | None:
    """Submit the answer to the session's live assignment, then reserve the next item or
    finish the session (quota reached, pool dry, or two failed attention checks: screened
    out; one failure never is). None when `key` names no session. A stale or repeated
    submit records nothing; an expired one records nothing and moves on to a fresh item.
    Raises JudgmentInputError for an answer that does not fit the form (nothing written).
    Time on task is the page's clock when it fits within the server's, else the server's."""
    now = timezone.now()
    with prepared_cursor() as cursor:
        row = cursor.execute(_READS[key.sql], key.params, prepare=True).fetchone()
    if row is None:  # no session, or one without an assignment (finished)
        view = rating_view(key=key)
        return None if view is None else AnswerOutcome(view.is_finished, recorded=False)
    (session_id, status, done, quota, failures, gold_positions, live_token, rater_id, group,
     study_id, study_status, kind, k, reservation_seconds, too_fast_policy,
     assignment_id, assignment_status, reserved_at, expires_at, target_side,
     reading_chars, is_gold, turns, gold_answer) = row  # fmt: skip
    if (
        status != RaterSession.Status.ACTIVE
        or not assignment_token
        or not hmac.compare_digest(assignment_token, live_token)
        or study_status != Study.Status.LAUNCHED
    ):
        return AnswerOutcome(finished=status != RaterSession.Status.ACTIVE, recorded=False)
    fields = verdict_fields(kind, target_side, choice, turn_labels, turns or 0)
    server_ms = int((now - reserved_at).total_seconds() * 1000)
    # The page's own clock excludes loading time; trust it only within the server's.
    ms = client_ms if client_ms is not None and 0 <= client_ms <= server_ms + 2000 else server_ms
    # The assignment row is locked: the claim below succeeds exactly when it is live now.
    recorded = assignment_status == "reserved" and expires_at > now
    failed = (
        recorded
        and is_gold
        and not attention_check_passed(gold_answer, fields["verdict"], fields["turn_labels"])
    )
    done += recorded
    final = ""
    if failures + failed >= MAX_ATTENTION_FAILURES:
        final = RaterSession.Status.SCREENED_OUT
    elif done >= quota:
        final = RaterSession.Status.COMPLETED
    if not final:
        sweep_now_and_then(study_id, now)
    params = judgment_params(
        assignment_id=assignment_id, rater_id=rater_id, rater_group=group, is_gold=is_gold,
        fields=fields, comment=comment, time_on_task_ms=ms,
        too_fast=ms < too_fast_threshold_ms(reading_chars, too_fast_policy), now=now,
    )  # fmt: skip
    params.update(
        session=session_id, study=study_id, k=k, failed=failed, final=final,
        reserve=not final, want_gold=not final and done in gold_positions,
        token=secrets.token_urlsafe(16), expires=now + timedelta(seconds=reservation_seconds),
    )  # fmt: skip
    with prepared_cursor() as cursor:
        judgment_id, new_status = cursor.execute(_ANSWER, params, prepare=True).fetchone()
    if judgment_id is not None:
        transaction.on_commit(lambda: study_stats_invalidate(study_id))
    return AnswerOutcome(
        finished=new_status != RaterSession.Status.ACTIVE,
        recorded=judgment_id is not None,
        attention_failed=failed,
    )
