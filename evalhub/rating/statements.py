"""Every SQL statement of the rating hot path, each written once and in full (nothing is
built by splicing), run as prepared statements by evalhub.studies.pool.execute.

Where each rule of the rating loop lives:

- reserve the next item for a rater (open real items fullest first; gold at the session's
  attention-check positions, else real; row-locked, so nobody waits; sides
  counterbalanced): SQL function `rating_item_reserve` (migration rating 0005), called by
  RESERVE and ANSWER.
- answer: claim the live assignment (the rater's own, reserved, unexpired), count it on the
  item and insert the judgment: SQL function `rating_judgment_record` (same migration),
  called by RECORD and ANSWER.
- the answer fits the form (choices, labels, comment): `Definition.answer_fields`
  (evalhub.instruments), through `verdict_fields` (evalhub.studies.services).
- too fast (flagged, never refused): `too_fast_threshold_ms` (evalhub.studies.services).
- attention checks (a wrong answer to a gold item is a failure; two end the session,
  screened out): `gold_answer_given` and MAX_ATTENTION_FAILURES
  (evalhub.studies.services), decided in evalhub.rating.answer and counted by ANSWER.
- the session moves on (next item, or completed / screened out / exhausted): ANSWER, as
  evalhub.rating.answer decides; a session without a live item: RESUME, RESERVE and
  MOVE_ON (evalhub.rating.services.session_resume).
- expire: reservations past their time go back to the pool: `assignments_expire`
  (evalhub.studies.services), run now and then by `sweep_now_and_then`.
- refill after exclusion: an excluded rater's real items go back to the pool
  (evalhub.crowd.services moves `taken` back) and reopen until they have k valid
  judgments, through `rating_item_reserve` as ever.
- rate limit (answers per session per minute): SQL function `rating_limit_count`, read by
  READ (the decision, in evalhub.rating.answer) and written by ANSWER and COUNT.

`taken` on an item's page = its judgments + live reservations, and an item is reserved only
while taken < k under a row lock, so every item ends with exactly k judgments.

Keyed statements come in two forms, by session cookie token in a study (`token`) or by a
logged-in user in a study (`user`): see evalhub.rating.selectors.SessionKey."""

from __future__ import annotations

# --- entry ---------------------------------------------------------------------------------

# A study a rater may enter (launched or closed), with STUDY_FIELDS (in the model's field
# order; the config too, which holds the frozen instrument's hash: loading it later would
# cost a query of its own).
STUDY_FIELDS = ["id", "slug", "crowd_code", "kind", "instrument_id", "raters_per_item",
                "attention_check_rate", "session_quota", "reservation_seconds", "completion_code",
                "screenout_code", "status", "config"]  # fmt: skip
STUDY_FOR_ENTRY = """
SELECT id, slug, crowd_code, kind, instrument_id, raters_per_item, attention_check_rate,
       session_quota, reservation_seconds, completion_code, screenout_code, status, config
FROM studies_study
WHERE crowd_code = %(crowd_code)s AND status IN ('launched', 'closed')"""

# In the models' field order, as Model.from_db wants a subset of fields.
SESSION_FIELDS = ["id", "token", "study_id", "rater_id", "quota", "done", "attention_failures",
                  "status", "consented_at", "assignment_id", "assignment_token"]  # fmt: skip

# The session a key names, with SESSION_FIELDS and then STUDY_FIELDS.
ENTRY = {
    "token": """
SELECT s.id, s.token, s.study_id, s.rater_id, s.quota, s.done, s.attention_failures, s.status,
       s.consented_at, s.assignment_id, s.assignment_token,
       st.id, st.slug, st.crowd_code, st.kind, st.instrument_id, st.raters_per_item,
       st.attention_check_rate, st.session_quota, st.reservation_seconds, st.completion_code,
       st.screenout_code, st.status, st.config
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
WHERE s.token = %(first)s AND st.crowd_code = %(second)s""",
    "user": """
SELECT s.id, s.token, s.study_id, s.rater_id, s.quota, s.done, s.attention_failures, s.status,
       s.consented_at, s.assignment_id, s.assignment_token,
       st.id, st.slug, st.crowd_code, st.kind, st.instrument_id, st.raters_per_item,
       st.attention_check_rate, st.session_quota, st.reservation_seconds, st.completion_code,
       st.screenout_code, st.status, st.config
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
WHERE s.study_id = %(first)s
  AND s.rater_id = (SELECT id FROM studies_rater WHERE user_id = %(second)s)""",
}

# A crowd participant's rater row (made on first entry), by keyed hash.
RATER_UPSERT = """
INSERT INTO studies_rater ("group", external_id_hash, created_at)
VALUES ('crowd', %(hash)s, %(now)s)
ON CONFLICT (external_id_hash) DO UPDATE SET "group" = studies_rater."group"
RETURNING id"""

# The participant's one session in the study: made (SESSION_FIELDS), or no row if it exists.
SESSION_NEW = """
INSERT INTO rating_ratersession (
    token, study_id, rater_id, prolific_study_id, prolific_session_id, quota, gold_positions,
    done, attention_failures, status, assignment_token, limit_window, limit_count, created_at)
VALUES (%(token)s, %(study)s, %(rater)s, %(prolific_study)s, %(prolific_session)s, %(quota)s,
        %(golds)s, 0, 0, 'active', '', 0, 0, %(now)s)
ON CONFLICT (study_id, rater_id) DO NOTHING
RETURNING id, token, study_id, rater_id, quota, done, attention_failures, status,
          consented_at, assignment_id, assignment_token"""

# A returning participant's session (SESSION_FIELDS).
SESSION_OLD = """
SELECT id, token, study_id, rater_id, quota, done, attention_failures, status, consented_at,
       assignment_id, assignment_token
FROM rating_ratersession
WHERE study_id = %(study)s AND rater_id = %(rater)s"""

# Consent, recorded once.
CONSENT = """
UPDATE rating_ratersession SET consented_at = %(now)s
WHERE id = %(session)s AND consented_at IS NULL"""

# --- resume: a session without a live assignment gets one ---------------------------------

# The session, locked, with what deciding on a new reservation needs.
RESUME = """
SELECT s.study_id, s.status, s.consented_at, s.done, s.gold_positions, s.rater_id,
       st.status, st.raters_per_item, st.reservation_seconds, a.status, a.expires_at
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
LEFT JOIN studies_assignment a ON a.id = s.assignment_id
WHERE s.id = %(session)s
FOR UPDATE OF s"""

# Reserve the next item: (assignment id, item id, target side), or no row.
RESERVE = """
SELECT reserved_id, reserved_item, reserved_side
FROM rating_item_reserve(%(study)s, %(rater)s, %(k)s, %(gold)s, %(now)s, %(expires)s)"""

# The session's new assignment, or its end.
MOVE_ON = """
UPDATE rating_ratersession
SET assignment_id = %(assignment)s, assignment_token = %(token)s, status = %(status)s,
    finished_at = %(finished)s
WHERE id = %(session)s"""

# --- the rating page -----------------------------------------------------------------------

# The session with its study, live assignment and pre-rendered item page (RatingView's
# fields; the page's are NULL without an assignment).
VIEW = {
    "token": """
SELECT s.id, s.status, s.consented_at, s.done, s.quota, s.assignment_token,
       st.status, st.kind, a.status, a.expires_at, a.target_side,
       p.context, p.prompt_html, p.target_html, p.baseline_html, p.turns,
       st.instrument_id, st.config #>> '{instrument,content_hash}'
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
LEFT JOIN studies_assignment a ON a.id = s.assignment_id
LEFT JOIN rating_itempage p ON p.item_id = a.item_id
WHERE s.token = %(first)s AND st.crowd_code = %(second)s""",
    "user": """
SELECT s.id, s.status, s.consented_at, s.done, s.quota, s.assignment_token,
       st.status, st.kind, a.status, a.expires_at, a.target_side,
       p.context, p.prompt_html, p.target_html, p.baseline_html, p.turns,
       st.instrument_id, st.config #>> '{instrument,content_hash}'
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
LEFT JOIN studies_assignment a ON a.id = s.assignment_id
LEFT JOIN rating_itempage p ON p.item_id = a.item_id
WHERE s.study_id = %(first)s
  AND s.rater_id = (SELECT id FROM studies_rater WHERE user_id = %(second)s)""",
}

# --- the answer ----------------------------------------------------------------------------

# Everything an answer's decisions need, in one row: the session (with its answer count in
# window %(window)s), its study, live assignment and item. No row: no session, or one with
# no assignment.
READ = {
    "token": """
SELECT s.id, s.status, s.done, s.quota, s.attention_failures, s.gold_positions,
       s.assignment_token, s.rater_id, r."group",
       rating_limit_count(s.limit_window, s.limit_count, %(window)s),
       st.id, st.status, st.kind, st.raters_per_item, st.reservation_seconds,
       st.config -> 'too_fast', st.instrument_id, st.config #>> '{instrument,content_hash}',
       a.id, a.status, a.reserved_at, a.expires_at, a.target_side,
       p.reading_chars, p.is_gold, jsonb_array_length(p.turns), i.gold_answer
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
JOIN studies_rater r ON r.id = s.rater_id
JOIN studies_assignment a ON a.id = s.assignment_id
JOIN studies_item i ON i.id = a.item_id
JOIN rating_itempage p ON p.item_id = a.item_id
WHERE s.token = %(first)s AND st.crowd_code = %(second)s""",
    "user": """
SELECT s.id, s.status, s.done, s.quota, s.attention_failures, s.gold_positions,
       s.assignment_token, s.rater_id, r."group",
       rating_limit_count(s.limit_window, s.limit_count, %(window)s),
       st.id, st.status, st.kind, st.raters_per_item, st.reservation_seconds,
       st.config -> 'too_fast', st.instrument_id, st.config #>> '{instrument,content_hash}',
       a.id, a.status, a.reserved_at, a.expires_at, a.target_side,
       p.reading_chars, p.is_gold, jsonb_array_length(p.turns), i.gold_answer
FROM rating_ratersession s
JOIN studies_study st ON st.id = s.study_id
JOIN studies_rater r ON r.id = s.rater_id
JOIN studies_assignment a ON a.id = s.assignment_id
JOIN studies_item i ON i.id = a.item_id
JOIN rating_itempage p ON p.item_id = a.item_id
WHERE s.study_id = %(first)s
  AND s.rater_id = (SELECT id FROM studies_rater WHERE user_id = %(second)s)""",
}

# Lock a session and its live assignment (an answer that raced another write runs again
# under these locks, then READs what the winner left).
LOCK = """
SELECT s.id FROM rating_ratersession s
JOIN studies_assignment a ON a.id = s.assignment_id
WHERE s.id = %(session)s
FOR UPDATE OF s, a"""

# The answer, atomically: `current` is the session and its assignment, locked, if still as
# read (else nothing is written and the answer runs again under LOCK); record the judgment,
# reserve the next item when %(reserve)s (gold when %(want_gold)s), and move the session on
# or end it with %(final)s; count the answer against the limit in any case. Returns the
# judgment's id (NULL: none written) and the session's status.
ANSWER = """
WITH current AS (
    SELECT s.id, s.assignment_id FROM rating_ratersession s
    JOIN studies_assignment a ON a.id = s.assignment_id
    WHERE s.id = %(session)s AND s.status = 'active' AND s.assignment_id = %(assignment)s
      AND s.assignment_token = %(live_token)s AND s.done = %(done)s
      AND s.attention_failures = %(failures)s AND a.status = %(assignment_status)s
    FOR UPDATE OF s, a
), judged AS (
    SELECT rating_judgment_record(
        current.assignment_id, %(rater)s, %(group)s, %(order)s, %(raw_choice)s, %(verdict)s,
        %(score)s, %(turn_labels)s, %(comment)s, %(ms)s, %(too_fast)s, %(gold)s, %(now)s
    ) AS id
    FROM current
), made AS (
    SELECT r.reserved_id AS id
    FROM current,
         rating_item_reserve(%(study)s, %(rater)s, %(k)s, %(want_gold)s, %(now)s, %(expires)s) r
    WHERE %(reserve)s
)
UPDATE rating_ratersession s SET
    done = s.done + (SELECT count(id) FROM judged),
    attention_failures = s.attention_failures
        + CASE WHEN %(failed)s AND EXISTS (SELECT 1 FROM judged WHERE id IS NOT NULL)
               THEN 1 ELSE 0 END,
    assignment_id = (SELECT id FROM made),
    assignment_token = CASE WHEN EXISTS (SELECT 1 FROM made) THEN %(token)s ELSE '' END,
    status = CASE WHEN EXISTS (SELECT 1 FROM made) THEN 'active'
                  WHEN %(reserve)s THEN 'exhausted' ELSE %(final)s END,
    finished_at = CASE WHEN EXISTS (SELECT 1 FROM made) THEN NULL ELSE %(now)s END,
    limit_count = rating_limit_count(s.limit_window, s.limit_count, %(window)s),
    limit_window = %(window)s
FROM current
WHERE s.id = current.id
RETURNING (SELECT id FROM judged), s.status"""

# An answer that writes nothing else (stale, or not fitting the form) still counts against
# the limit; one over the limit writes nothing.
COUNT = """
UPDATE rating_ratersession s
SET limit_count = rating_limit_count(s.limit_window, s.limit_count, %(window)s),
    limit_window = %(window)s
WHERE s.id = %(session)s"""

# --- the pool's steps on their own (evalhub.studies.pool) ----------------------------------

# Record a judgment outside a session's answer: its id, or NULL when nothing was written.
RECORD = """
SELECT rating_judgment_record(
    %(assignment)s, %(rater)s, %(group)s, %(order)s, %(raw_choice)s, %(verdict)s, %(score)s,
    %(turn_labels)s, %(comment)s, %(ms)s, %(too_fast)s, %(gold)s, %(now)s)"""
