"""The assignment pool: reserve the next item for a rater and record their judgment, each
in one prepared statement (evalhub.rating.statements: RESERVE and RECORD, over the SQL
functions that the rating loop's answer calls too), and `execute`, which runs every
statement of the rating hot path.

An item's page counts `taken` = judgments + live reservations, and an item is only reserved
while taken < k, under a row lock (FOR UPDATE SKIP LOCKED; PostgreSQL re-checks `taken < k`
on the locked row). So every item ends with exactly k judgments and concurrent raters never
wait on each other."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb, JsonbLoader
from psycopg.types.numeric import Int8BinaryDumper

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.rating import statements
from evalhub.reconnect import rerun_once_if_disconnected
from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study
from evalhub.studies.services import (
    study_definition,
    sweep_now_and_then,
    too_fast_threshold_ms,
    verdict_fields,
)

_NEVER_AUTO_PREPARE = 2**31


def connection_configure(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """On every new PostgreSQL connection (connection_created): plan each prepared statement
    once. With the default plan_cache_mode, PostgreSQL re-plans a statement whose custom
    plan looks cheaper than the generic one, and the answer statement's parameter-guarded
    branches always look cheaper custom: a full planning (milliseconds) on every answer.
    Only this module's statements are prepared (Django binds on the client), so nothing
    else is affected."""
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")


@rerun_once_if_disconnected
def execute(sql: str, params: dict[str, Any]) -> psycopg.Cursor:
    """Run `sql` as a prepared statement on Django's connection (in its transaction, if
    any) and return the cursor holding the result.

    The statement is planned on its first run on the connection and the plan is kept
    (see `connection_configure`), so it is planned as the index lookup it is, whatever
    the statistics say: those of a just-launched study's empty tables would make a
    sequential scan look cheaper, and keep it as the tables grow. Errors come out as
    Django's database exceptions and mark the connection as Django's own cursors do.

    Outside a transaction, a statement whose connection was lost runs once more on a new
    connection, where its statements are prepared again (see evalhub.reconnect: every
    statement of the rating loop is guarded so that running it twice writes once)."""
    connection.ensure_connection()
    raw = connection.connection
    kept = getattr(connection, "_pool_cursor", None)
    if kept is None or kept[0].connection is not raw or kept[0].closed:
        # One cursor per connection, kept: making one costs more than running a statement.
        cursor = psycopg.Cursor(raw)
        # Django loads jsonb as text (for JSONField to parse); here it comes back parsed.
        cursor.adapters.register_loader("jsonb", JsonbLoader)
        # Integers always as bigint: one prepared statement per query, not one per range
        # of its values.
        cursor.adapters.register_dumper(int, Int8BinaryDumper)
        # psycopg then prepares only what is asked to (prepare=True), never Django's queries
        # (None would disable preparing altogether).
        raw.prepare_threshold = _NEVER_AUTO_PREPARE
        kept = connection._pool_cursor = (cursor, set())
    cursor, planned = kept
    with connection.wrap_database_errors:
        if sql in planned:
            return cursor.execute(sql, params, prepare=True)
        raw.execute("SET enable_seqscan = off")
        try:
            cursor.execute(sql, params, prepare=True)
        finally:  # in a failed transaction, its rollback undoes the SET (a lost one, all)
            if not raw.closed and raw.info.transaction_status != TransactionStatus.INERROR:
                raw.execute("RESET enable_seqscan")
        planned.add(sql)
        return cursor


# --- reservation ---------------------------------------------------------------------------


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
    reservations now and then. Must run inside a transaction."""
    sweep_now_and_then(study_id, now)
    params = {
        "study": study_id,
        "rater": rater_id,
        "k": k,
        "now": now,
        "expires": now + timedelta(seconds=reservation_seconds),
    }
    return execute(statements.RESERVE, {**params, "gold": gold}).fetchone()


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
    (see `reserve_row`). Must run inside a transaction."""
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
    """The parameters of `rating_judgment_record` in RECORD and ANSWER (`fields` from
    `verdict_fields`)."""
    return {
        "now": now,
        "assignment": assignment_id,
        "rater": rater_id,
        "group": rater_group,
        "order": fields["order"],
        "raw_choice": fields["raw_choice"],
        "verdict": fields["verdict"],
        "score": fields["score"],
        "turn_labels": Jsonb(fields["turn_labels"]),
        "comment": comment.strip()[:5000],
        "ms": max(0, time_on_task_ms),
        "too_fast": too_fast,
        "gold": is_gold,
    }


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
    """Record the rater's answer to their live assignment, in one statement: None, writing
    nothing, when the assignment is not this rater's, already submitted or expired;
    JudgmentInputError for an answer that does not fit the form. The study's dashboards
    go stale on commit (no save signal fires for raw SQL)."""
    now = now or timezone.now()
    item = (
        Item.objects.select_related("page")
        .only("is_gold", "study_id", "page__reading_chars", "page__turns")
        .get(pk=assignment.item_id)
    )
    fields = verdict_fields(
        study_definition(study), study.kind, assignment.target_side, choice, turn_labels,
        len(item.page.turns), comment,
    )  # fmt: skip
    if time_on_task_ms is None:
        time_on_task_ms = int((now - assignment.reserved_at).total_seconds() * 1000)
    threshold = too_fast_threshold_ms(item.page.reading_chars, study.config.get("too_fast"))
    params = judgment_params(
        assignment_id=assignment.pk, rater_id=rater.pk, rater_group=rater.group,
        is_gold=item.is_gold, fields=fields, comment=comment, time_on_task_ms=time_on_task_ms,
        too_fast=time_on_task_ms < threshold, now=now,
    )  # fmt: skip
    row = execute(statements.RECORD, params).fetchone()
    if row[0] is None:
        return None
    study_id = item.study_id
    transaction.on_commit(lambda: study_stats_invalidate(study_id))
    return Judgment.objects.get(pk=row[0])
