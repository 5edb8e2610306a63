"""The assignment pool: reserve the next item for a rater, record their judgment, and expire
reservations. This is the rating hot path, so each step is one prepared SQL statement.

The pool invariant: an item's page counts `taken` = judgments + live reservations, and an
item is only reserved while taken < k, under a row lock (FOR UPDATE SKIP LOCKED; Postgres
re-checks `taken < k` on the locked row). So every item ends with exactly k judgments and
concurrent raters never wait on each other."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from psycopg.types.json import Jsonb, JsonbLoader

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.rating.models import ItemPage
from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study

MAX_ATTENTION_FAILURES = 2
# An answer faster than this is flagged (never blocked): a floor, or reading every
# character shown at `chars_per_second`, about four times a careful reading pace.
TOO_FAST = {"floor_ms": 3000, "chars_per_second": 80}
PAIRWISE_CHOICES = {"A", "B", "tie"}
LABELS = {"fail", "pass", "excellent"}
# Expired reservations go back to the pool at least this often, per web process (and every
# minute from celery beat: evalhub.schedule).
SWEEP_EVERY_SECONDS = 5.0
_last_sweep: dict[int, float] = {}
# psycopg prepares a statement only when asked (prepare=True) with a threshold this high,
# so Django's own (client-side bound) queries are never prepared behind its back.
_NEVER_AUTO_PREPARE = 10**9


class JudgmentInputError(ValueError):
    """A submitted answer that does not fit the form; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@contextmanager
def prepared_cursor() -> Iterator[psycopg.Cursor]:
    """A server-side-binding cursor on Django's connection (same transaction) whose
    `execute(..., prepare=True)` is planned once per connection, not once per request.
    Errors come out as Django's database exceptions and mark the connection as Django's
    own cursors do. PostgreSQL only."""
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None or raw.prepare_threshold < _NEVER_AUTO_PREPARE:
        raw.prepare_threshold = _NEVER_AUTO_PREPARE
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        # Django loads jsonb as text (for JSONField to parse); here it comes back parsed.
        cursor.adapters.register_loader("jsonb", JsonbLoader)
        yield cursor


# --- expiry --------------------------------------------------------------------------------


@transaction.atomic
def assignments_expire(*, study: Study | None = None, now: datetime | None = None) -> int:
    """End reservations past their time and give their slots back to the pool. Rows a
    submit holds right now are skipped (that submit decides them). Returns how many."""
    now = now or timezone.now()
    due = Assignment.objects.filter(status=Assignment.Status.RESERVED, expires_at__lte=now)
    if study is not None:
        due = due.filter(item__study_id=study.pk)
    rows = list(due.select_for_update(skip_locked=True).values_list("id", "item_id"))
    if not rows:
        return 0
    Assignment.objects.filter(id__in=[pk for pk, _ in rows]).update(
        status=Assignment.Status.EXPIRED
    )
    per_item = Counter(item_id for _, item_id in rows)
    by_count: dict[int, list[int]] = {}
    for item_id, n in per_item.items():
        by_count.setdefault(n, []).append(item_id)
    for n, item_ids in by_count.items():
        ItemPage.objects.filter(item_id__in=item_ids, is_gold=False).update(taken=F("taken") - n)
    return len(rows)


def sweep_now_and_then(study_id: int, now: datetime) -> None:
    """Expire the study's overdue reservations, at most every SWEEP_EVERY_SECONDS here."""
    if time.monotonic() - _last_sweep.get(study_id, 0.0) >= SWEEP_EVERY_SECONDS:
        _last_sweep[study_id] = time.monotonic()
        assignments_expire(study=Study(pk=study_id), now=now)


# --- reservation ---------------------------------------------------------------------------

# Real items: open ones (taken < k) the rater never had, fullest first, in the order of
# rating_pool_order_idx; gold items: the least served. The page is locked (others skip it)
# and counted, and the assignment made. The target's side alternates over an item's
# reservations (served + item id), so left/right is counterbalanced. Fragments, so that
# evalhub.rating.answer can run the same steps inside its one statement.
PICK_SQL = """
    SELECT p.item_id, p.served FROM rating_itempage p
    WHERE p.study_id = %(study)s AND {pool}
      AND NOT EXISTS (SELECT 1 FROM studies_assignment a
                      WHERE a.item_id = p.item_id AND a.rater_id = %(rater)s)
    ORDER BY {order}
    LIMIT 1
    FOR UPDATE OF p SKIP LOCKED"""
PICK_REAL = PICK_SQL.format(
    pool="NOT p.is_gold AND p.taken < %(k)s", order="p.taken DESC, p.item_id"
)
PICK_GOLD = PICK_SQL.format(pool="p.is_gold", order="p.served, p.item_id")
# Given a `pick` CTE: count the page (gold pages never use up the real pool) and reserve.
TAKE_SQL = """
    UPDATE rating_itempage p
    SET taken = p.taken + CASE WHEN p.is_gold THEN 0 ELSE 1 END, served = p.served + 1
    FROM pick WHERE p.item_id = pick.item_id"""
RESERVE_SQL = """
    INSERT INTO studies_assignment
        (item_id, rater_id, target_side, status, reserved_at, expires_at)
    SELECT item_id, %(rater)s, CASE WHEN (served + item_id) %% 2 = 0 THEN 'A' ELSE 'B' END,
           'reserved', %(now)s, %(expires)s
    FROM pick"""
_RESERVE = "WITH pick AS ({pick}), taken AS ({take}) {reserve} RETURNING id, item_id, target_side"
_RESERVE_REAL = _RESERVE.format(pick=PICK_REAL, take=TAKE_SQL, reserve=RESERVE_SQL)
_RESERVE_GOLD = _RESERVE.format(pick=PICK_GOLD, take=TAKE_SQL, reserve=RESERVE_SQL)


def reserve_row(
    *,
    study_id: int,
    rater_id: int,
    k: int,
    reservation_seconds: int,
    gold: bool = False,
    now: datetime,
) -> tuple[int, int, str] | None:
    """Reserve the next item for the rater: (assignment id, item id, target side), or None
    when none is left for them (a gold request falls back to a real item). Sweeps expired
    reservations now and then. Must run inside a transaction, on PostgreSQL."""
    sweep_now_and_then(study_id, now)
    params = {
        "study": study_id,
        "rater": rater_id,
        "k": k,
        "now": now,
        "expires": now + timedelta(seconds=reservation_seconds),
    }
    with prepared_cursor() as cursor:
        row = None
        if gold:
            row = cursor.execute(_RESERVE_GOLD, params, prepare=True).fetchone()
        if row is None:
            row = cursor.execute(_RESERVE_REAL, params, prepare=True).fetchone()
    return row


@transaction.atomic
def assignment_reserve(
    *, study: Study, rater: Rater, gold: bool = False, now: datetime | None = None
) -> Assignment | None:
    """Reserve the next item of `study` for `rater` (see `reserve_in_transaction`)."""
    return reserve_in_transaction(study=study, rater=rater, gold=gold, now=now)


def reserve_in_transaction(
    *, study: Study, rater: Rater, gold: bool = False, now: datetime | None = None
) -> Assignment | None:
    """Reserve the next item of `study` for `rater`, or None when none is left for them
    or the study is not launched (see `reserve_row`). Must run inside a transaction."""
    now = now or timezone.now()
    if study.status != Study.Status.LAUNCHED:
        return None
    row = reserve_row(
        study_id=study.pk,
        rater_id=rater.pk,
        k=study.raters_per_item,
        reservation_seconds=study.reservation_seconds,
        gold=gold,
        now=now,
    )
    if row is None:
        return None
    assignment_id, item_id, side = row
    expires = now + timedelta(seconds=study.reservation_seconds)
    return Assignment.from_db(
        connection.alias,
        ["id", "item_id", "rater_id", "target_side", "status", "reserved_at", "expires_at",
         "submitted_at"],
        [assignment_id, item_id, rater.pk, side, Assignment.Status.RESERVED, now, expires, None],
    )  # fmt: skip


# --- judgments -----------------------------------------------------------------------------


def too_fast_threshold_ms(reading_chars: int, policy: dict[str, Any] | None = None) -> int:
    """Milliseconds under which an answer counts as too fast for this much text."""
    policy = policy or TOO_FAST
    return max(int(policy["floor_ms"]), int(reading_chars * 1000 / policy["chars_per_second"]))


def verdict_fields(
    kind: str, target_side: str, choice: str, labels: list[str] | None, turns: int
) -> dict[str, Any]:
    """raw_choice, verdict, order and turn_labels for an answer to a `kind` study's item
    shown with the target on `target_side`; JudgmentInputError names the bad field."""
    if kind == Study.Kind.PAIRWISE:
        if choice not in PAIRWISE_CHOICES:
            raise JudgmentInputError("choice", "pick A, B or tie")
        if choice == "tie":
            verdict = Judgment.Verdict.TIE
        else:
            target_chosen = choice == target_side
            verdict = Judgment.Verdict.TARGET if target_chosen else Judgment.Verdict.BASELINE
        order = Judgment.Order.TARGET_FIRST if target_side == "A" else Judgment.Order.BASELINE_FIRST
        return {"raw_choice": choice, "verdict": verdict, "order": order, "turn_labels": []}
    if kind == Study.Kind.DIALOGUE:
        labels = labels or []
        if len(labels) != turns or any(label not in LABELS for label in labels):
            raise JudgmentInputError("turn_labels", f"label each of the {turns} turns")
        return {"raw_choice": ",".join(labels), "turn_labels": labels, "verdict": "",
                "order": Judgment.Order.SINGLE}  # fmt: skip
    if choice not in LABELS:
        raise JudgmentInputError("choice", "pick Fail, Pass or Excellent")
    return {"raw_choice": choice, "verdict": choice, "order": Judgment.Order.SINGLE,
            "turn_labels": []}  # fmt: skip


def attention_check_passed(gold_answer: str, verdict: str, turn_labels: list[str]) -> bool:
    """A gold item is passed when the verdict is its gold answer (every turn, in dialogues)."""
    if turn_labels:
        return all(label == gold_answer for label in turn_labels)
    return verdict == gold_answer


# Claim the live assignment (only the rater's own, only while reserved and unexpired: a
# double or late submit matches no row and writes nothing) and count it on the item; then,
# from `claimed`, insert the judgment. Fragments, shared with evalhub.rating.answer.
CLAIM_SQL = """
claimed AS (
    UPDATE studies_assignment SET status = 'submitted', submitted_at = %(now)s
    WHERE id = %(assignment)s AND rater_id = %(rater)s AND status = 'reserved'
      AND expires_at > %(now)s
    RETURNING id, item_id
), counted AS (
    UPDATE studies_item SET judgment_count = judgment_count + 1
    WHERE id = (SELECT item_id FROM claimed)
)"""
JUDGMENT_SQL = """
    INSERT INTO studies_judgment (
        item_id, assignment_id, rater_id, judge_group, "order", raw_choice, verdict,
        turn_labels, comment, time_on_task_ms, too_fast, is_attention_check, raw_response,
        parse_state, imported_from, created_at)
    SELECT item_id, id, %(rater)s, %(group)s, %(order)s, %(raw_choice)s, %(verdict)s,
           %(turn_labels)s, %(comment)s, %(ms)s, %(too_fast)s, %(gold)s, '', '', '', %(now)s
    FROM claimed
    RETURNING id"""
_RECORD = f"WITH {CLAIM_SQL} {JUDGMENT_SQL}"


def judgment_params(
    *,
    assignment_id: int,
    rater_id: int,
    rater_group: str,
    is_gold: bool,
    fields: dict[str, Any],
    comment: str,
    time_on_task_ms: int,
    too_fast: bool,
    now: datetime,
) -> dict[str, Any]:
    """The parameters of CLAIM_SQL and JUDGMENT_SQL."""
    return {
        "now": now,
        "assignment": assignment_id,
        "rater": rater_id,
        "group": rater_group,
        "order": fields["order"],
        "raw_choice": fields["raw_choice"],
        "verdict": fields["verdict"],
        "turn_labels": Jsonb(fields["turn_labels"]),
        "comment": comment.strip()[:5000],
        "ms": max(0, time_on_task_ms),
        "too_fast": too_fast,
        "gold": is_gold,
    }


def judgment_record(
    *,
    study_id: int,
    assignment_id: int,
    rater_id: int,
    rater_group: str,
    is_gold: bool,
    fields: dict[str, Any],
    comment: str,
    time_on_task_ms: int,
    too_fast: bool,
    now: datetime,
) -> int | None:
    """Claim the rater's live assignment and write its judgment (`fields` from
    `verdict_fields`): the new judgment's id, or None, writing nothing, when the assignment
    is not this rater's, already submitted or expired. The study's dashboards go stale on
    commit (no save signal fires here). Must run inside a transaction, on PostgreSQL."""
    params = judgment_params(
        assignment_id=assignment_id, rater_id=rater_id, rater_group=rater_group, is_gold=is_gold,
        fields=fields, comment=comment, time_on_task_ms=time_on_task_ms, too_fast=too_fast,
        now=now,
    )  # fmt: skip
    with prepared_cursor() as cursor:
        row = cursor.execute(_RECORD, params, prepare=True).fetchone()
    if row is None:
        return None
    transaction.on_commit(lambda: study_stats_invalidate(study_id))
    return row[0]


@transaction.atomic
def judgment_submit(
    *,
    assignment: Assignment,
    rater: Rater,
    study: Study,
    choice: str = "",
    turn_labels: list[str] | None = None,
    comment: str = "",
    time_on_task_ms: int | None = None,
    now: datetime | None = None,
) -> Judgment | None:
    """Record the rater's answer to their live assignment.

    Returns None, writing nothing, when the assignment is not this rater's, already
    submitted (a double submit counts once) or expired. Raises JudgmentInputError for an
    answer that does not fit the form. Time on task (ms) defaults to the time since the
    reservation; an answer faster than the text allows is flagged too_fast, not refused."""
    now = now or timezone.now()
    item = (
        Item.objects.select_related("page")
        .only("is_gold", "study_id", "page__reading_chars", "page__turns")
        .get(pk=assignment.item_id)
    )
    fields = verdict_fields(
        study.kind, assignment.target_side, choice, turn_labels, len(item.page.turns)
    )
    if time_on_task_ms is None:
        time_on_task_ms = int((now - assignment.reserved_at).total_seconds() * 1000)
    threshold = too_fast_threshold_ms(item.page.reading_chars, study.config.get("too_fast"))
    judgment_id = judgment_record(
        study_id=item.study_id, assignment_id=assignment.pk, rater_id=rater.pk,
        rater_group=rater.group, is_gold=item.is_gold, fields=fields, comment=comment,
        time_on_task_ms=time_on_task_ms, too_fast=time_on_task_ms < threshold, now=now,
    )  # fmt: skip
    if judgment_id is None:
        return None
    return Judgment.objects.get(pk=judgment_id)
