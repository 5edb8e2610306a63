"""Writes for crowd quality: excluding raters (and including them again), with the quota
refill that follows. Prolific lists: evalhub.crowd.prolific.

Exclusion marks the rater's judgments `excluded` (kept, exported, left out of results)
and gives their real items' slots back to the pool: `ItemPage.taken` counts judgments plus
live reservations, and both rating paths (the prepared statements in evalhub.studies.pool
and evalhub.rating.answer, and the ORM in evalhub.studies.services) only reserve an item
while taken < k, so the items reopen until each again has k valid judgments. The rater's
session is locked first, so an answer of theirs in flight either lands before (and is
excluded with the rest) or finds the session ended and writes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from evalhub.crowd.models import RaterExclusion
from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.importing import InputError, RowProblem
from evalhub.rating.models import ItemPage, RaterSession
from evalhub.studies.models import Assignment, Judgment, Study
from evalhub.teams.models import AuditEvent
from evalhub.teams.services import audit_record

log = logging.getLogger(__name__)

DEADLOCK_TRIES = 3


class CrowdInputError(InputError):
    """Bad input for a crowd-quality action: CrowdInputError(problems, source), each
    problem naming its row and field."""


class CrowdStateError(ValueError):
    """The study is not in a state that allows the action (e.g. closed)."""


@dataclass(frozen=True)
class ExclusionOutcome:
    """Raters whose state changed and the judgments moved out of (or into) the results."""

    raters: list[int]
    judgments: int


def _retrying_deadlocks(action: Any, **kwargs: Any) -> Any:
    """Run a transaction again when PostgreSQL broke a deadlock by aborting it: the pool's
    expiry sweep updates item pages in its own order, as an exclusion does."""
    for attempt in range(DEADLOCK_TRIES):
        try:
            return action(**kwargs)
        except OperationalError as exc:
            if "deadlock" not in str(exc) or attempt == DEADLOCK_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _check(study: Study, rater_ids: list[int], reason: str) -> list[RaterSession]:
    if study.status != Study.Status.LAUNCHED:
        raise CrowdStateError(
            f"study {study.slug} is {study.status}; raters are excluded or included only "
            "while it is launched"
        )
    if not reason.strip():
        raise CrowdInputError([RowProblem(0, "give a reason", "reason")], "reason: required")
    if not rater_ids:
        raise CrowdInputError([RowProblem(0, "name at least one rater", "raters")], "no raters")
    # Locked in one order, so two researchers' actions never deadlock on each other.
    sessions = list(
        RaterSession.objects.select_for_update(of=("self",))
        .filter(study=study, rater_id__in=rater_ids)
        .order_by("pk")
    )
    unknown = sorted(set(rater_ids) - {s.rater_id for s in sessions})
    if unknown:
        problems = [RowProblem(0, f"no rater {r} in study {study.slug}", "raters") for r in unknown]
        raise CrowdInputError(problems, f"unknown raters: {', '.join(map(str, unknown))}")
    return sessions


def _move_taken(item_ids: list[int], sign: int) -> None:
    """taken += sign x (times each item occurs), real items only, pages locked in id order."""
    per_item = Counter(item_ids)
    pages = list(
        ItemPage.objects.select_for_update()
        .filter(item_id__in=per_item, is_gold=False)
        .order_by("item_id")
        .values_list("item_id", flat=True)
    )
    by_count: dict[int, list[int]] = {}
    for item_id in pages:
        by_count.setdefault(per_item[item_id], []).append(item_id)
    for n, ids in by_count.items():
        ItemPage.objects.filter(item_id__in=ids).update(taken=F("taken") + sign * n)


@transaction.atomic
def _exclude(
    *, study: Study, rater_ids: list[int], reason: str, by: AbstractBaseUser | None
) -> ExclusionOutcome:
    sessions = [s for s in _check(study, rater_ids, reason) if s.excluded_at is None]
    now = timezone.now()
    ids = [s.rater_id for s in sessions]
    if not ids:
        return ExclusionOutcome([], 0)
    # Active sessions end: their live reservation goes back to the pool.
    live = [s.assignment_id for s in sessions if s.is_finished is False and s.assignment_id]
    released = list(
        Assignment.objects.select_for_update()
        .filter(pk__in=live, status=Assignment.Status.RESERVED)
        .values_list("id", "item_id")
    )
    Assignment.objects.filter(pk__in=[pk for pk, _ in released]).update(
        status=Assignment.Status.EXPIRED
    )
    RaterSession.objects.filter(pk__in=[s.pk for s in sessions if not s.is_finished]).update(
        status=RaterSession.Status.EXCLUDED, finished_at=now, assignment=None, assignment_token=""
    )
    RaterSession.objects.filter(pk__in=[s.pk for s in sessions]).update(excluded_at=now)
    judged = Judgment.objects.filter(item__study=study, rater_id__in=ids, excluded=False)
    rows = list(judged.values_list("rater_id", "item_id", "assignment_id"))
    judged.update(excluded=True)
    # Only judgments made through the pool count in `taken` (imported ones never did).
    pooled = [item for _, item, assignment in rows if assignment is not None]
    _move_taken(pooled + [item for _, item in released], -1)
    per_rater = Counter(r for r, _, _ in rows)
    RaterExclusion.objects.bulk_create(
        RaterExclusion(study=study, rater_id=r, action=RaterExclusion.Action.EXCLUDE,
                       reason=reason.strip(), judgments=per_rater[r], by=by)
        for r in ids
    )  # fmt: skip
    transaction.on_commit(lambda: study_stats_invalidate(study.pk))
    log.info("study %s: %s raters excluded (%s judgments)", study.slug, len(ids), len(rows))
    details = {"raters": ids, "judgments": len(rows), "reason": reason.strip()}
    audit_record(
        team=study.team, actor=by, action=AuditEvent.Action.EXCLUDE, obj=study, details=details
    )
    return ExclusionOutcome(ids, len(rows))


def raters_exclude(
    *, study: Study, rater_ids: list[int], reason: str, by: AbstractBaseUser | None = None
) -> ExclusionOutcome:
    """Exclude these raters of a launched study, with a reason: their judgments leave
    every result (kept and exported, marked), their items reopen until each has k valid
    judgments again, an active session ends (its reservation released), and the action is
    recorded. Raters already excluded are left as they are. CrowdInputError for an unknown
    rater or a missing reason, CrowdStateError unless the study is launched: nothing is
    written then."""
    return _retrying_deadlocks(_exclude, study=study, rater_ids=rater_ids, reason=reason, by=by)


@transaction.atomic
def _include(
    *, study: Study, rater_ids: list[int], reason: str, by: AbstractBaseUser | None
) -> ExclusionOutcome:
    sessions = [s for s in _check(study, rater_ids, reason) if s.excluded_at is not None]
    ids = [s.rater_id for s in sessions]
    if not ids:
        return ExclusionOutcome([], 0)
    RaterSession.objects.filter(pk__in=[s.pk for s in sessions]).update(excluded_at=None)
    judged = Judgment.objects.filter(item__study=study, rater_id__in=ids, excluded=True)
    rows = list(judged.values_list("rater_id", "item_id", "assignment_id"))
    judged.update(excluded=False)
    _move_taken([item for _, item, assignment in rows if assignment is not None], +1)
    per_rater = Counter(r for r, _, _ in rows)
    RaterExclusion.objects.bulk_create(
        RaterExclusion(study=study, rater_id=r, action=RaterExclusion.Action.INCLUDE,
                       reason=reason.strip(), judgments=per_rater[r], by=by)
        for r in ids
    )  # fmt: skip
    transaction.on_commit(lambda: study_stats_invalidate(study.pk))
    details = {"raters": ids, "judgments": len(rows), "reason": reason.strip()}
    audit_record(
        team=study.team, actor=by, action=AuditEvent.Action.INCLUDE, obj=study, details=details
    )
    return ExclusionOutcome(ids, len(rows))


def raters_include(
    *, study: Study, rater_ids: list[int], reason: str, by: AbstractBaseUser | None = None
) -> ExclusionOutcome:
    """Include excluded raters again: their judgments count again (an item refilled
    meanwhile then has more than k valid judgments; none is dropped) and the action is
    recorded. A session ended by the exclusion stays ended. Same errors as
    raters_exclude."""
    return _retrying_deadlocks(_include, study=study, rater_ids=rater_ids, reason=reason, by=by)
